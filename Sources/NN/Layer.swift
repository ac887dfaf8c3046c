import FacemineDevice

/// A network layer with an explicit backward pass. `forward` remembers what `backward` needs;
/// `backward` takes dLoss/dOutput, writes the parameters' gradients, and returns dLoss/dInput
/// (nil when the layer was built without input gradients, as a network's first layer).
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor
    func backward(_ gradOutput: Tensor) throws -> Tensor?
    var parameters: [Parameter] { get }
    var buffers: [Buffer] { get }
    /// The batch-norm layers inside, whose batch counters checkpoints keep.
    var batchNorms: [BatchNorm2d] { get }
    /// Appends the layer's evaluation-mode forward pass to `graph`, reading `input`; returns its output.
    func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value
}

extension Layer {
    public var buffers: [Buffer] { [] }
    public var batchNorms: [BatchNorm2d] { [] }
}

/// Layers applied in order.
public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        var x = input
        for layer in layers { x = try layer.forward(x, context) }
        return x
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        var g: Tensor? = gradOutput
        for layer in layers.reversed() {
            guard let current = g else { return nil }
            g = try layer.backward(current)
        }
        return g
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }
    public var batchNorms: [BatchNorm2d] { layers.flatMap(\.batchNorms) }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        layers.reduce(input) { $1.describe(in: graph, input: $0) }
    }
}
