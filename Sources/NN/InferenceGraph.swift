import FacemineDevice

/// A network's forward pass in evaluation mode, written out as a graph of standard operators
/// (batch norm on its running statistics, dropout gone), so that it can be exported to formats
/// other runtimes read (ONNX) without those writers knowing facemine's layer classes. The
/// tensors are the layers' own, still on their backend: a writer reads them when it writes.
public final class InferenceGraph {
    public enum Operation {
        /// torch.nn.Conv2d over NCHW, square kernel, symmetric padding.
        case convolution(weight: Tensor, bias: Tensor?, stride: Int, padding: Int)
        /// y = (x - mean) / sqrt(variance + epsilon) x gamma + beta, per channel.
        case batchNorm(gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: Float)
        case relu
        case maxPool(kernel: Int, stride: Int, padding: Int)
        /// [N, C, H, W] -> [N, C]: the mean over each channel's plane.
        case globalAveragePool
        /// [N, ...] -> [N, product of the rest].
        case flatten
        /// y = x W^T + b over [N, in] -> [N, out].
        case linear(weight: Tensor, bias: Tensor)
        /// The elementwise sum of the node's two inputs (a residual connection).
        case add
    }

    /// One value of the graph: the network's input, or a node's output.
    public struct Value: Hashable, Sendable {
        public let index: Int
        public static let input = Value(index: 0)
    }

    public struct Node {
        public let operation: Operation
        public let inputs: [Value]
        /// Unique within the graph, after the layer's parameter names ("layer1.0.bn1").
        public let name: String
        public let output: Value
    }

    public private(set) var nodes: [Node] = []
    private var usedNames: [String: Int] = [:]

    public init() {}

    /// Adds a node and returns its output. `name` is made unique by a suffix if it is taken.
    @discardableResult
    public func append(_ operation: Operation, _ inputs: Value..., name: String) -> Value {
        let uses = usedNames[name, default: 0]
        usedNames[name] = uses + 1
        let output = Value(index: nodes.count + 1)
        nodes.append(Node(operation: operation, inputs: inputs, name: uses == 0 ? name : "\(name)_\(uses)", output: output))
        return output
    }
}

/// The layer name that its parameters carry, without the ".weight" suffix.
func layerName(_ parameter: Parameter) -> String {
    parameter.name.hasSuffix(".weight") ? String(parameter.name.dropLast(".weight".count)) : parameter.name
}
