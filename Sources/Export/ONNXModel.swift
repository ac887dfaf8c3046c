import FacemineData
import FacemineDevice
import FacemineNN
import Foundation
import SwiftProtobuf

/// A trained classifier as an ONNX model (IR version 8, opset 13) that any ONNX runtime can run
/// without facemine: input `faces` [N, 1, 48, 48] float32, 48x48 gray face crops scaled to [0, 1]
/// (pixel / 255), which the graph normalises as training did; outputs `logits` and
/// `probabilities` [N, 8] in facemine's class order (the model's metadata lists it). Batch norm
/// stays a BatchNormalization node on the running statistics, so the exported weights are the
/// checkpoint's, value for value. Test-time augmentation and post-hoc adjustment are not in the
/// graph: they are the caller's, as `facemine predict --tta none` without them.
public enum ONNXModel {
    public static let irVersion: Int64 = 8
    public static let opsetVersion: Int64 = 13
    public static let inputName = "faces"

    /// The model's protobuf message. `metadata` is added to the model's properties (the run's
    /// recipe, say) after facemine's own (classes, input).
    public static func make(
        _ classifier: any Classifier, backend: any Backend,
        metadata: [(key: String, value: String)] = []
    ) throws -> Onnx_ModelProto {
        var writer = GraphWriter(backend: backend)
        try writer.write(classifier)
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        model.producerName = "facemine"
        model.docString = "\(classifier.name): facial-emotion classifier trained by facemine"
        model.opsetImport = [
            Onnx_OperatorSetIdProto.with {
                $0.domain = ""; $0.version = opsetVersion
            }
        ]
        model.graph = writer.graph
        let own: [(key: String, value: String)] = [
            ("facemine.classes", Emotion.allCases.map(\.name).joined(separator: ",")),
            (
                "facemine.input",
                "\(inputName): [N, 1, 48, 48] float32, gray face crops scaled to [0, 1] (pixel / 255); "
                    + "the graph applies (x - \(PrefetchingBatcher.mean)) / \(PrefetchingBatcher.std) itself"
            ),
            ("facemine.model", classifier.name),
        ]
        model.metadataProps = (own + metadata).map { entry in
            Onnx_StringStringEntryProto.with {
                $0.key = entry.key; $0.value = entry.value
            }
        }
        return model
    }

    /// Writes the model to `url` atomically (a reader never sees half a file).
    public static func write(
        _ classifier: any Classifier, backend: any Backend, to url: URL,
        metadata: [(key: String, value: String)] = []
    ) throws {
        let bytes: Data = try make(classifier, backend: backend, metadata: metadata).serializedData()
        try bytes.write(to: url, options: .atomic)
    }
}

/// Turns an `InferenceGraph` into ONNX nodes and initializers, naming each value after the
/// layer that makes it.
struct GraphWriter {
    let backend: any Backend
    var graph = Onnx_GraphProto()
    private var names: [InferenceGraph.Value: String] = [:]

    init(backend: any Backend) { self.backend = backend }

    mutating func write(_ classifier: any Classifier) throws {
        let (network, logits) = classifier.inferenceGraph()
        graph.name = classifier.name
        graph.input = [Self.valueInfo(ONNXModel.inputName, batchThen: [1, FaceDataset.side, FaceDataset.side])]
        // (x - mean) / std, as the batcher feeds training.
        try constant("normalize.mean", [], [PrefetchingBatcher.mean])
        try constant("normalize.std", [], [PrefetchingBatcher.std])
        node("Sub", [ONNXModel.inputName, "normalize.mean"], "centered")
        node("Div", ["centered", "normalize.std"], "normalized")
        names[.input] = "normalized"
        for n in network.nodes {
            names[n.output] = n.output == logits ? "logits" : n.name
            try write(n)
        }
        node("Softmax", ["logits"], "probabilities", attributes: [Self.int("axis", 1)])
        graph.output = [
            Self.valueInfo("logits", batchThen: [Emotion.count]), Self.valueInfo("probabilities", batchThen: [Emotion.count]),
        ]
    }

    private mutating func write(_ n: InferenceGraph.Node) throws {
        let inputs = n.inputs.map { names[$0]! }, output = names[n.output]!
        switch n.operation {
        case let .convolution(weight, bias, stride, padding):
            let k = Int64(weight.shape[2])
            try tensor("\(n.name).weight", weight)
            if let bias { try tensor("\(n.name).bias", bias) }
            node(
                "Conv", inputs + ["\(n.name).weight"] + (bias == nil ? [] : ["\(n.name).bias"]), output,
                attributes: [
                    Self.ints("kernel_shape", [k, k]), Self.ints("strides", [Int64(stride), Int64(stride)]),
                    Self.ints("pads", Array(repeating: Int64(padding), count: 4)),
                ])
        case let .batchNorm(gamma, beta, mean, variance, epsilon):
            for (suffix, t) in [("weight", gamma), ("bias", beta), ("running_mean", mean), ("running_var", variance)] {
                try tensor("\(n.name).\(suffix)", t)
            }
            node(
                "BatchNormalization", inputs + ["weight", "bias", "running_mean", "running_var"].map { "\(n.name).\($0)" },
                output, attributes: [Self.float("epsilon", epsilon)])
        case .relu:
            node("Relu", inputs, output)
        case let .maxPool(kernel, stride, padding):
            node(
                "MaxPool", inputs, output,
                attributes: [
                    Self.ints("kernel_shape", [Int64(kernel), Int64(kernel)]),
                    Self.ints("strides", [Int64(stride), Int64(stride)]),
                    Self.ints("pads", Array(repeating: Int64(padding), count: 4)),
                ])
        case .globalAveragePool:
            node("GlobalAveragePool", inputs, "\(n.name).nchw")
            node("Flatten", ["\(n.name).nchw"], output, attributes: [Self.int("axis", 1)])
        case .flatten:
            node("Flatten", inputs, output, attributes: [Self.int("axis", 1)])
        case let .linear(weight, bias):
            try tensor("\(n.name).weight", weight)
            try tensor("\(n.name).bias", bias)
            node("Gemm", inputs + ["\(n.name).weight", "\(n.name).bias"], output, attributes: [Self.int("transB", 1)])
        case .add:
            node("Add", inputs, output)
        }
    }

    private mutating func node(_ type: String, _ inputs: [String], _ output: String, attributes: [Onnx_AttributeProto] = []) {
        graph.node.append(
            Onnx_NodeProto.with {
                $0.opType = type
                $0.name = output
                $0.input = inputs
                $0.output = [output]
                $0.attribute = attributes
            })
    }

    private mutating func tensor(_ name: String, _ t: Tensor) throws {
        try constant(name, t.shape, try backend.floats(t))
    }

    private mutating func constant(_ name: String, _ shape: [Int], _ values: [Float]) throws {
        precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
        graph.initializer.append(
            Onnx_TensorProto.with {
                $0.name = name
                $0.dims = shape.map(Int64.init)
                $0.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                // ONNX's raw data is little-endian whatever the machine.
                $0.rawData = values.withUnsafeBufferPointer { buffer in
                    var bytes = Data(capacity: buffer.count * 4)
                    for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                    return bytes
                }
            })
    }

    /// A float tensor of shape [N, rest...], N the symbolic batch size.
    static func valueInfo(_ name: String, batchThen rest: [Int]) -> Onnx_ValueInfoProto {
        Onnx_ValueInfoProto.with {
            $0.name = name
            $0.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            $0.type.tensorType.shape.dim = [.with { $0.dimParam = "N" }] + rest.map { d in .with { $0.dimValue = Int64(d) } }
        }
    }

    static func int(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        .with {
            $0.name = name; $0.type = .int; $0.i = value
        }
    }

    static func ints(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        .with {
            $0.name = name; $0.type = .ints; $0.ints = values
        }
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        .with {
            $0.name = name; $0.type = .float; $0.f = value
        }
    }
}
