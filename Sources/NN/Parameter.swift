import FacemineDevice

/// A trainable tensor, its gradient, and the optimizer's per-parameter state, named as in a
/// PyTorch state dict (`layer1.0.conv1.weight`) so checkpoints and weights cross over.
public final class Parameter {
    public let name: String
    public let value: Tensor
    public let gradient: Tensor
    /// Optimizer state (momentum buffer, Adam moments), created by the optimizer on first use.
    public var state: [Tensor] = []
    /// Weight decay applies to weights, not to biases and batch-norm parameters (the common
    /// PyTorch recipe); layers say which is which.
    public let decays: Bool
    /// This parameter's learning rate as a multiple of the optimizer's (see MyCNN's fc1).
    public var learningRateScale: Float = 1

    public init(name: String, value: Tensor, gradient: Tensor, decays: Bool) {
        self.name = name
        self.value = value
        self.gradient = gradient
        self.decays = decays
    }

    public var count: Int { value.count }
}

/// A named non-trainable tensor that is part of a model's state (batch-norm running statistics).
public struct Buffer {
    public let name: String
    public let value: Tensor
}

/// Per-step information every layer may need.
public struct StepContext: Sendable {
    /// Training mode: batch statistics in batch norm, dropout active.
    public var training: Bool
    /// Seed and step number key the dropout masks (Philox), identical on every backend.
    public var seed: UInt64
    public var step: UInt64
    /// Sees every ReLU's input before the ReLU overwrites it, in forward order. The parity
    /// export uses it: an input within float32 rounding of zero decides the gradient's path, so
    /// PyTorch must take the same decisions to compare the arithmetic (benchmarks/pytorch/parity.py).
    public var reluInputObserver: (@Sendable (Tensor) throws -> Void)?

    public init(training: Bool, seed: UInt64 = 0, step: UInt64 = 0) {
        self.training = training
        self.seed = seed
        self.step = step
    }
}

/// Tensors a layer keeps between steps, reused while the batch shape stays the same, so a
/// steady-state step allocates nothing (the last, smaller batch of an epoch gets its own set).
final class TensorCache {
    private var tensors: [String: Tensor] = [:]
    let backend: any Backend

    init(_ backend: any Backend) { self.backend = backend }

    func tensor(_ key: String, _ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        let fullKey = "\(key)\(shape)"
        if let t = tensors[fullKey] { return t }
        let t = try backend.makeTensor(shape, dtype: dtype)
        tensors[fullKey] = t
        return t
    }
}
