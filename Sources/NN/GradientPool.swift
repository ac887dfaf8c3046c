import FacemineDevice
import Foundation

/// Gradient tensors flow backwards through a network and are dead as soon as the layer below
/// has consumed them. Layers take their input-gradient buffers from this pool and give back the
/// gradient they received once they are done with it, so a network holds a few gradient buffers
/// per shape instead of one per layer (as PyTorch's autograd frees them). That is the
/// difference between facemine's and PyTorch's peak memory on ResNet-18.
///
/// A buffer handed out has one owner; `retain` adds one for a gradient used twice (a residual
/// block's output gradient feeds both branches). Tensors the pool did not make (the loss's
/// gradient) are left alone.
public final class GradientPool {
    private var free: [[Int]: [Tensor]] = [:]
    private var owners: [ObjectIdentifier: (tensor: Tensor, count: Int)] = [:]
    let backend: any Backend

    init(_ backend: any Backend) { self.backend = backend }

    func take(_ shape: [Int]) throws -> Tensor {
        let tensor = try free[shape]?.popLast() ?? backend.makeTensor(shape)
        owners[ObjectIdentifier(tensor.storage)] = (tensor, 1)
        return tensor
    }

    func retain(_ tensor: Tensor) {
        owners[ObjectIdentifier(tensor.storage)]?.count += 1
    }

    func release(_ tensor: Tensor) {
        let key = ObjectIdentifier(tensor.storage)
        guard let entry = owners[key] else { return }
        if entry.count > 1 {
            owners[key]!.count -= 1
        } else {
            owners[key] = nil
            free[entry.tensor.shape, default: []].append(entry.tensor)
        }
    }

    // MARK: one pool per backend

    private static let lock = NSLock()
    nonisolated(unsafe) private static var pools: [ObjectIdentifier: (backend: Weak, pool: GradientPool)] = [:]

    private final class Weak {
        weak var value: AnyObject?
        init(_ value: AnyObject) { self.value = value }
    }

    /// The pool of `backend`'s models. Layers of one backend share it; a pool goes away with its
    /// backend.
    static func shared(_ backend: any Backend) -> GradientPool {
        lock.lock()
        defer { lock.unlock() }
        pools = pools.filter { $0.value.backend.value != nil }
        let key = ObjectIdentifier(backend)
        if let entry = pools[key] { return entry.pool }
        let pool = GradientPool(backend)
        pools[key] = (Weak(backend), pool)
        return pool
    }
}
