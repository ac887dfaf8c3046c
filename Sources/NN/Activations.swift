import FacemineDevice

/// ReLU in place (as `nn.ReLU(inplace=True)` in torchvision's ResNet): the output overwrites
/// the input, and the gradient overwrites the incoming gradient, saving a tensor per layer.
public final class ReLU: Layer {
    let backend: any Backend
    private var output: Tensor?

    public init(_ backend: any Backend) { self.backend = backend }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        try context.reluInputObserver?(input)
        backend.reluForward(input, output: input)
        output = input
        return input
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        guard let output else { preconditionFailure("backward before forward") }
        backend.reluBackward(gradOutput: gradOutput, output: output, gradInput: gradOutput)
        return gradOutput
    }

    public var parameters: [Parameter] { [] }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        graph.append(.relu, input, name: "relu")
    }
}

/// Inverted dropout whose mask is a pure function of (seed, step, element): the same on every
/// backend, and redrawn in the backward pass instead of stored.
public final class Dropout: Layer {
    public let probability: Float
    let backend: any Backend
    let salt: UInt64
    private let cache: TensorCache
    private let gradients: GradientPool
    private var active: (seed: UInt64, step: UInt64)?

    public init(_ backend: any Backend, name: String, probability: Float) {
        self.backend = backend
        self.probability = probability
        salt = Initialization.hash(name)
        cache = TensorCache(backend)
        gradients = GradientPool.shared(backend)
    }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        guard context.training && probability > 0 else {
            active = nil
            return input
        }
        let output = try cache.tensor("output", input.shape)
        let seed = context.seed ^ salt
        backend.dropoutForward(input, output: output, probability: probability, seed: seed, step: context.step)
        active = (seed, context.step)
        return output
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        guard let active else { return gradOutput }
        // The mask is the same function of (seed, step, element) either way: apply it in place.
        backend.dropoutBackward(
            gradOutput: gradOutput, gradInput: gradOutput, probability: probability,
            seed: active.seed, step: active.step)
        return gradOutput
    }

    public var parameters: [Parameter] { [] }

    /// Evaluation mode passes the input through.
    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value { input }
}

/// [N, C, H, W] -> [N, C*H*W] as a view: no copy either way.
public final class Flatten: Layer {
    private var shape: [Int] = []
    public init() {}

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        shape = input.shape
        return input.reshaped([input.shape[0], input.count / input.shape[0]])
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? { gradOutput.reshaped(shape) }
    public var parameters: [Parameter] { [] }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        graph.append(.flatten, input, name: "flatten")
    }
}
