/// Batch-normalisation constants, as PyTorch's `BatchNorm2d` defines them: running statistics
/// move by `momentum` toward each batch's mean and *unbiased* variance, while the batch is
/// normalised with its *biased* variance.
public struct BatchNormSettings: Equatable, Sendable {
    public var momentum: Float
    public var epsilon: Float
    public init(momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.momentum = momentum
        self.epsilon = epsilon
    }
}

/// What a batch norm's output passes through before it is written: the residual sum and the
/// ReLU that end a ResNet block, or the ReLU after a convolution. A backend applies them in the
/// normalisation's own elementwise pass, so the block's add and ReLU cost no pass over memory
/// and no launch of their own; the result is `relu(batchNorm(x) + residual)` either way.
public struct BatchNormEpilogue {
    /// Added to the normalised values (the block's shortcut); it may be the output tensor itself.
    public var residual: Tensor?
    public var relu: Bool
    public init(residual: Tensor? = nil, relu: Bool = false) {
        self.residual = residual
        self.relu = relu
    }
    /// Batch norm alone.
    public static var none: BatchNormEpilogue { BatchNormEpilogue() }
}

/// SGD as `torch.optim.SGD`: weight decay is added to the gradient (L2), the momentum buffer
/// starts as the first gradient, Nesterov looks ahead along the buffer.
public struct SGDSettings: Equatable, Sendable {
    public var learningRate: Float
    public var momentum: Float
    public var dampening: Float
    public var nesterov: Bool
    public var weightDecay: Float
    /// The gradient is multiplied by this before anything else (gradient-norm clipping).
    public var gradientScale: Float = 1
    public init(
        learningRate: Float, momentum: Float = 0, dampening: Float = 0,
        nesterov: Bool = false, weightDecay: Float = 0
    ) {
        precondition(
            !nesterov || (momentum > 0 && dampening == 0),
            "Nesterov momentum requires a momentum and zero dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }
}

/// Adam and AdamW as `torch.optim.Adam` / `AdamW`: `decoupledWeightDecay` false adds
/// weight decay to the gradient (Adam's L2), true shrinks the weights directly (AdamW).
public struct AdamSettings: Equatable, Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    /// The gradient is multiplied by this before anything else (gradient-norm clipping).
    public var gradientScale: Float = 1
    public init(
        learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }
}

/// Counts a backend keeps about its memory, so tests can prove steady-state steps allocate
/// nothing and soak tests can prove memory stays flat.
public struct MemoryStatistics: Equatable, Sendable {
    /// Bytes held by live tensors and workspaces.
    public var liveBytes: Int
    /// Device allocations made since the backend was created (tensors and workspace growth).
    public var allocations: Int
    public init(liveBytes: Int = 0, allocations: Int = 0) {
        self.liveBytes = liveBytes
        self.allocations = allocations
    }
}
