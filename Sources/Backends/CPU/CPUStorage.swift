import FacemineDevice

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Host memory owned by the CPU backend, 64-byte aligned so vector loads never split cache lines.
final class CPUStorage: DeviceStorage {
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int
    private let onFree: (Int) -> Void

    init(byteCount: Int, onFree: @escaping (Int) -> Void) throws {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, max(byteCount, 64)) == 0, let raw else {
            throw DeviceError.outOfMemory(requestedBytes: byteCount, detail: "host allocation failed")
        }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        self.pointer = raw
        self.byteCount = byteCount
        self.onFree = onFree
    }

    deinit {
        free(pointer)
        onFree(byteCount)
    }
}

/// Typed access to a tensor's memory; only CPU tensors may be passed to the CPU backend.
extension Tensor {
    @inline(__always) var cpuStorage: CPUStorage {
        guard let s = storage as? CPUStorage else {
            preconditionFailure("a tensor from another backend was passed to the CPU backend")
        }
        return s
    }

    @inline(__always) var floats: UnsafeMutablePointer<Float> {
        precondition(dtype == .float32, "expected a float32 tensor, got \(dtype)")
        return cpuStorage.pointer.assumingMemoryBound(to: Float.self)
    }

    @inline(__always) var int32s: UnsafeMutablePointer<Int32> {
        precondition(dtype == .int32, "expected an int32 tensor, got \(dtype)")
        return cpuStorage.pointer.assumingMemoryBound(to: Int32.self)
    }
}

/// Scratch memory reused across ops and steps: it only grows, so a steady-state training step
/// allocates nothing. Each slot serves one role inside one op at a time.
final class Workspace {
    enum Slot: Int, CaseIterable {
        case columns = 0  // im2col matrix of a chunk of images / its gradient; direct: dY in channel blocks
        case matrix = 1  // GEMM result or gathered gradient, channel-major; direct: x channel-major (not 48x48)
        case perThread = 2  // one slice per thread: im2col bands, partial sums
        case taps = 3  // Int32 tap-offset table of small-plane convolutions
        case packedWeights = 4  // direct convolution: weights in 16-channel blocks (all, or one per thread)
        case packedWeightGrads = 5  // direct convolution: weight gradients in 16-channel blocks
        case packedA = 6  // the wide GEMM kernel's packed left operand
    }

    private var buffers: [UnsafeMutableRawPointer?] = Array(repeating: nil, count: Slot.allCases.count)
    private var capacities: [Int] = Array(repeating: 0, count: Slot.allCases.count)
    private(set) var bytes = 0
    private(set) var growths = 0

    func floats(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Float> {
        let i = slot.rawValue
        let needed = count * MemoryLayout<Float>.stride
        if capacities[i] < needed {
            free(buffers[i])
            var raw: UnsafeMutableRawPointer?
            guard posix_memalign(&raw, 64, needed) == 0, let raw else {
                fatalError("facemine: out of host memory growing a \(needed)-byte workspace")
            }
            bytes += needed - capacities[i]
            buffers[i] = raw
            capacities[i] = needed
            growths += 1
        }
        return buffers[i]!.assumingMemoryBound(to: Float.self)
    }

    func int32s(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Int32> {
        UnsafeMutableRawPointer(floats(slot, count: count)).assumingMemoryBound(to: Int32.self)
    }

    deinit {
        for b in buffers { free(b) }
    }
}
