import FacemineDevice

/// `torch.nn.BatchNorm2d` (momentum 0.1, eps 1e-5): batch statistics in training, running
/// statistics in evaluation. Built with `relu`, it is also the `nn.ReLU(inplace=True)` that
/// follows it, and `forward(_:adding:_:)` adds a residual before that ReLU: the backend does
/// both in the normalisation's own pass (`BatchNormEpilogue`), and the backward pass masks the
/// gradient in the reduction it already makes, so neither costs a pass of its own.
public final class BatchNorm2d: Layer {
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Tensor
    public let runningVariance: Tensor
    /// PyTorch counts the training batches seen; kept for state-dict compatibility.
    public var batchesTracked = 0
    public let name: String
    /// Whether the output passes through a ReLU.
    public let relu: Bool
    let backend: any Backend
    let settings = BatchNormSettings()
    private let cache: TensorCache
    private let gradients: GradientPool
    private let savedMean: Tensor, savedInvStd: Tensor
    private var input: Tensor?, output: Tensor?

    public init(_ backend: any Backend, name: String, channels: Int, relu: Bool = false) throws {
        self.backend = backend
        self.name = name
        self.relu = relu
        cache = TensorCache(backend)
        gradients = GradientPool.shared(backend)
        gamma = Parameter(
            name: "\(name).weight", value: try backend.makeTensor([channels], values: [Float](repeating: 1, count: channels)),
            gradient: try backend.makeTensor([channels]), decays: false)
        beta = Parameter(
            name: "\(name).bias", value: try backend.makeTensor([channels]),
            gradient: try backend.makeTensor([channels]), decays: false)
        runningMean = try backend.makeTensor([channels])
        runningVariance = try backend.makeTensor([channels], values: [Float](repeating: 1, count: channels))
        savedMean = try backend.makeTensor([channels])
        savedInvStd = try backend.makeTensor([channels])
    }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        try forward(input, adding: nil, context)
    }

    /// relu(batchNorm(input) + residual), as far as the layer has a ReLU and a residual is given.
    public func forward(_ input: Tensor, adding residual: Tensor?, _ context: StepContext) throws -> Tensor {
        let output = try cache.tensor("output", input.shape)
        // An observer of ReLU inputs (the parity export) must see the sum before the ReLU
        // overwrites it: the ReLU runs as a pass of its own then.
        let observed = relu && context.reluInputObserver != nil
        let epilogue = BatchNormEpilogue(residual: residual, relu: relu && !observed)
        if context.training {
            backend.batchNormTrainingForward(
                input, gamma: gamma.value, beta: beta.value, runningMean: runningMean,
                runningVariance: runningVariance, settings: settings, output: output,
                savedMean: savedMean, savedInvStd: savedInvStd, epilogue: epilogue)
            batchesTracked += 1
        } else {
            backend.batchNormInferenceForward(
                input, gamma: gamma.value, beta: beta.value, runningMean: runningMean,
                runningVariance: runningVariance, epsilon: settings.epsilon, output: output, epilogue: epilogue)
        }
        if observed {
            try context.reluInputObserver?(output)
            backend.reluForward(output, output: output)
        }
        self.input = input
        self.output = output
        return output
    }

    /// With a ReLU, `gradOutput` is left holding the gradient at the ReLU's input, which is
    /// what a residual added in `forward` receives: a caller that added one keeps (retains)
    /// `gradOutput` and reads it after this returns.
    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        guard let input else { preconditionFailure("backward before forward") }
        let gradInput = try gradients.take(input.shape)
        backend.batchNormBackward(
            gradOutput: gradOutput, input: input, gamma: gamma.value, savedMean: savedMean,
            savedInvStd: savedInvStd, gradInput: gradInput, gradGamma: gamma.gradient, gradBeta: beta.gradient,
            reluOutput: relu ? output : nil)
        gradients.release(gradOutput)
        return gradInput
    }

    public var parameters: [Parameter] { [gamma, beta] }
    public var batchNorms: [BatchNorm2d] { [self] }

    /// The normalisation alone, as the graph's operator (a ResNet block names its own ReLUs).
    public var operation: InferenceGraph.Operation {
        .batchNorm(gamma: gamma.value, beta: beta.value, mean: runningMean, variance: runningVariance, epsilon: settings.epsilon)
    }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        let normalised = graph.append(operation, input, name: name)
        return relu ? graph.append(.relu, normalised, name: "relu") : normalised
    }
    public var buffers: [Buffer] {
        [Buffer(name: "\(name).running_mean", value: runningMean), Buffer(name: "\(name).running_var", value: runningVariance)]
    }
}
