import FacemineDevice

/// A network from 1x48x48 faces to 8 logits.
public protocol Classifier: AnyObject {
    /// A short name for logs: "MyCNN", "ResNet-18 (small stem)".
    var name: String { get }
    /// Images [N, 1, 48, 48] -> logits [N, 8].
    func forward(_ images: Tensor, _ context: StepContext) throws -> Tensor
    /// dLoss/dLogits in; fills every parameter's gradient.
    func backward(_ gradLogits: Tensor) throws
    var parameters: [Parameter] { get }
    var buffers: [Buffer] { get }
    var batchNorms: [BatchNorm2d] { get }
    /// Appends the evaluation-mode forward pass from normalised images to logits (for export).
    func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value
}

extension Classifier {
    /// The whole evaluation-mode network as a graph from `InferenceGraph.Value.input` (normalised
    /// images) to the returned logits.
    public func inferenceGraph() -> (graph: InferenceGraph, logits: InferenceGraph.Value) {
        let graph = InferenceGraph()
        return (graph, describe(in: graph, input: .input))
    }
}

extension Classifier {
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// The models facemine trains, by their CLI names.
public enum Architecture: String, CaseIterable, Codable, Sendable {
    case mycnn
    case resnet18

    public func make(
        _ backend: any Backend, classes: Int = 8, stem: ResNetStem = .small, dropout: Float = 0.5,
        seed: UInt64
    ) throws -> any Classifier {
        switch self {
        case .mycnn: try MyCNN(backend, classes: classes, dropout: dropout, seed: seed)
        case .resnet18: try ResNet18(backend, classes: classes, stem: stem, seed: seed)
        }
    }
}
