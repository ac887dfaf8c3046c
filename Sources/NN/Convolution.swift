import FacemineDevice

/// 2-D convolution with square kernels, as `torch.nn.Conv2d`.
public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    let backend: any Backend
    let outChannels: Int, kernel: Int, stride: Int, padding: Int
    /// False for a network's first layer: nothing upstream needs dLoss/dImage.
    let computesInputGradient: Bool
    private let cache: TensorCache
    private let gradients: GradientPool
    private var input: Tensor?
    private var geometry: ConvGeometry?

    public init(
        _ backend: any Backend, name: String, inChannels: Int, outChannels: Int, kernel: Int,
        stride: Int = 1, padding: Int = 0, bias: Bool, initialization: Initialization, seed: UInt64,
        computesInputGradient: Bool = true
    ) throws {
        self.backend = backend
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.computesInputGradient = computesInputGradient
        cache = TensorCache(backend)
        gradients = GradientPool.shared(backend)
        weight = try makeParameter(
            backend, name: "\(name).weight", shape: [outChannels, inChannels, kernel, kernel],
            initialization: initialization, seed: seed, decays: true)
        // PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in of the weight.
        let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
        self.bias =
            bias
            ? try makeParameter(
                backend, name: "\(name).bias", shape: [outChannels],
                initialization: .uniform(bound), seed: seed, decays: false) : nil
    }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        let s = input.shape
        let g = ConvGeometry(
            batch: s[0], inChannels: s[1], height: s[2], width: s[3], outChannels: outChannels,
            kernel: kernel, stride: stride, padding: padding)
        let output = try cache.tensor("output", g.outputShape)
        backend.conv2dForward(g, input: input, weight: weight.value, bias: bias?.value, output: output)
        self.input = input
        geometry = g
        return output
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        guard let input, let g = geometry else { preconditionFailure("backward before forward") }
        let gradInput = computesInputGradient ? try gradients.take(g.inputShape) : nil
        backend.conv2dBackward(
            g, input: input, weight: weight.value, gradOutput: gradOutput, gradInput: gradInput,
            gradWeight: weight.gradient, gradBias: bias?.gradient)
        gradients.release(gradOutput)
        return gradInput
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        graph.append(
            .convolution(weight: weight.value, bias: bias?.value, stride: stride, padding: padding), input,
            name: layerName(weight))
    }
}

/// `torch.nn.Linear`: y = x W^T + b over [N, in] -> [N, out].
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter
    let backend: any Backend
    let inFeatures: Int, outFeatures: Int
    private let cache: TensorCache
    private let gradients: GradientPool
    private var input: Tensor?
    /// The output of the last forward pass (a following in-place ReLU leaves its result here).
    public private(set) var lastOutput: Tensor?

    public init(
        _ backend: any Backend, name: String, inFeatures: Int, outFeatures: Int,
        initialization: Initialization, seed: UInt64
    ) throws {
        self.backend = backend
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        cache = TensorCache(backend)
        gradients = GradientPool.shared(backend)
        weight = try makeParameter(
            backend, name: "\(name).weight", shape: [outFeatures, inFeatures],
            initialization: initialization, seed: seed, decays: true)
        bias = try makeParameter(
            backend, name: "\(name).bias", shape: [outFeatures],
            initialization: .uniform(1 / Float(inFeatures).squareRoot()), seed: seed, decays: false)
    }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        let n = input.shape[0]
        precondition(input.count == n * inFeatures, "Linear(\(inFeatures)) got input \(input.shape)")
        let output = try cache.tensor("output", [n, outFeatures])
        backend.gemm(GEMM(m: n, n: outFeatures, k: inFeatures, transposeB: true), a: input, b: weight.value, c: output)
        backend.addBias(output, bias: bias.value)
        self.input = input
        lastOutput = output
        return output
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        guard let input else { preconditionFailure("backward before forward") }
        let n = input.shape[0]
        // dW = dY^T X, db = column sums of dY, dX = dY W.
        backend.gemm(GEMM(m: outFeatures, n: inFeatures, k: n, transposeA: true), a: gradOutput, b: input, c: weight.gradient)
        backend.biasGradient(gradOutput, into: bias.gradient)
        let gradInput = try gradients.take(input.shape)
        backend.gemm(GEMM(m: n, n: inFeatures, k: outFeatures), a: gradOutput, b: weight.value, c: gradInput)
        gradients.release(gradOutput)
        return gradInput
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        graph.append(.linear(weight: weight.value, bias: bias.value), input, name: layerName(weight))
    }
}
