import FacemineDevice

/// `torch.nn.MaxPool2d(kernel, stride, padding)`.
public final class MaxPool2d: Layer {
    let backend: any Backend
    let kernel: Int, stride: Int, padding: Int
    private let cache: TensorCache
    private let gradients: GradientPool
    private var geometry: PoolGeometry?
    private var indices: Tensor?

    public init(_ backend: any Backend, kernel: Int, stride: Int, padding: Int = 0) {
        self.backend = backend
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        cache = TensorCache(backend)
        gradients = GradientPool.shared(backend)
    }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        let s = input.shape
        let g = PoolGeometry(
            batch: s[0], channels: s[1], height: s[2], width: s[3], kernel: kernel, stride: stride, padding: padding)
        let output = try cache.tensor("output", g.outputShape)
        let indices = try cache.tensor("indices", g.outputShape, dtype: .int32)
        backend.maxPoolForward(g, input: input, output: output, indices: indices)
        geometry = g
        self.indices = indices
        return output
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        guard let g = geometry, let indices else { preconditionFailure("backward before forward") }
        let gradInput = try gradients.take(g.inputShape)
        backend.maxPoolBackward(g, gradOutput: gradOutput, indices: indices, gradInput: gradInput)
        gradients.release(gradOutput)
        return gradInput
    }

    public var parameters: [Parameter] { [] }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        graph.append(.maxPool(kernel: kernel, stride: stride, padding: padding), input, name: "maxpool")
    }
}

/// `nn.AdaptiveAvgPool2d(1)` followed by flatten: [N, C, H, W] -> [N, C].
public final class GlobalAvgPool: Layer {
    let backend: any Backend
    private let cache: TensorCache
    private let gradients: GradientPool
    private var inputShape: [Int] = []

    public init(_ backend: any Backend) {
        self.backend = backend
        cache = TensorCache(backend)
        gradients = GradientPool.shared(backend)
    }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        inputShape = input.shape
        let output = try cache.tensor("output", [input.shape[0], input.shape[1]])
        backend.globalAvgPoolForward(input, output: output)
        return output
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        let gradInput = try gradients.take(inputShape)
        backend.globalAvgPoolBackward(gradOutput, gradInput: gradInput)
        gradients.release(gradOutput)
        return gradInput
    }

    public var parameters: [Parameter] { [] }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        graph.append(.globalAveragePool, input, name: "avgpool")
    }
}
