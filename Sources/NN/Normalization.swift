import FacemineDevice

/// `torch.nn.BatchNorm2d` (momentum 0.1, eps 1e-5): batch statistics in training, running
/// statistics in evaluation.
public final class BatchNorm2d: Layer {
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Tensor
    public let runningVariance: Tensor
    /// PyTorch counts the training batches seen; kept for state-dict compatibility.
    public var batchesTracked = 0
    public let name: String
    let backend: any Backend
    let settings = BatchNormSettings()
    private let cache: TensorCache
    private let gradients: GradientPool
    private let savedMean: Tensor, savedInvStd: Tensor
    private var input: Tensor?

    public init(_ backend: any Backend, name: String, channels: Int) throws {
        self.backend = backend
        self.name = name
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
        let output = try cache.tensor("output", input.shape)
        if context.training {
            backend.batchNormTrainingForward(
                input, gamma: gamma.value, beta: beta.value, runningMean: runningMean,
                runningVariance: runningVariance, settings: settings, output: output,
                savedMean: savedMean, savedInvStd: savedInvStd)
            batchesTracked += 1
        } else {
            backend.batchNormInferenceForward(
                input, gamma: gamma.value, beta: beta.value, runningMean: runningMean,
                runningVariance: runningVariance, epsilon: settings.epsilon, output: output)
        }
        self.input = input
        return output
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        guard let input else { preconditionFailure("backward before forward") }
        let gradInput = try gradients.take(input.shape)
        backend.batchNormBackward(
            gradOutput: gradOutput, input: input, gamma: gamma.value, savedMean: savedMean,
            savedInvStd: savedInvStd, gradInput: gradInput, gradGamma: gamma.gradient, gradBeta: beta.gradient)
        gradients.release(gradOutput)
        return gradInput
    }

    public var parameters: [Parameter] { [gamma, beta] }
    public var batchNorms: [BatchNorm2d] { [self] }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        graph.append(
            .batchNorm(
                gamma: gamma.value, beta: beta.value, mean: runningMean, variance: runningVariance,
                epsilon: settings.epsilon), input, name: name)
    }
    public var buffers: [Buffer] {
        [Buffer(name: "\(name).running_mean", value: runningMean), Buffer(name: "\(name).running_var", value: runningVariance)]
    }
}
