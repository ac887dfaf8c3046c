import FacemineDevice

/// Where a ResNet-18 first looks at the image.
public enum ResNetStem: String, CaseIterable, Codable, Sendable {
    /// torchvision's stem: 7x7 stride-2 conv and a 3x3 stride-2 max pool (48x48 -> 12x12).
    case imagenet
    /// 3x3 stride-1 conv, no pool: keeps 48x48 resolution, the usual choice for small images.
    case small
    /// 3x3 stride-1 conv and a 3x3 stride-2 max pool (48x48 -> 24x24): the residual blocks see
    /// four times the imagenet stem's positions for about a quarter of the small stem's cost,
    /// the resolution a two-core hour on FER-2013 can afford (docs/RESULTS.md).
    case medium
}

/// torchvision's BasicBlock: two 3x3 conv-BN stages, a 1x1 stride-s projection shortcut when the
/// shape changes, the sum through ReLU. Both ReLUs and the sum are fused into the batch norms
/// before them (`bn1` ends in the first ReLU, `bn2` adds the shortcut and ends in the second).
public final class BasicBlock: Layer {
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    let downsample: Sequential?
    let backend: any Backend
    private let gradients: GradientPool

    public init(_ backend: any Backend, name: String, inChannels: Int, outChannels: Int, stride: Int, seed: UInt64) throws {
        self.backend = backend
        gradients = GradientPool.shared(backend)
        conv1 = try Conv2d(
            backend, name: "\(name).conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3,
            stride: stride, padding: 1, bias: false, initialization: .kaimingNormalFanOut, seed: seed)
        bn1 = try BatchNorm2d(backend, name: "\(name).bn1", channels: outChannels, relu: true)
        conv2 = try Conv2d(
            backend, name: "\(name).conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3,
            padding: 1, bias: false, initialization: .kaimingNormalFanOut, seed: seed)
        bn2 = try BatchNorm2d(backend, name: "\(name).bn2", channels: outChannels, relu: true)
        downsample =
            stride != 1 || inChannels != outChannels
            ? Sequential([
                try Conv2d(
                    backend, name: "\(name).downsample.0", inChannels: inChannels, outChannels: outChannels, kernel: 1,
                    stride: stride, bias: false, initialization: .kaimingNormalFanOut, seed: seed),
                try BatchNorm2d(backend, name: "\(name).downsample.1", channels: outChannels),
            ]) : nil
    }

    public func forward(_ input: Tensor, _ context: StepContext) throws -> Tensor {
        let x = try bn1.forward(try conv1.forward(input, context), context)
        let shortcut = try downsample?.forward(input, context) ?? input
        return try bn2.forward(try conv2.forward(x, context), adding: shortcut, context)
    }

    public func backward(_ gradOutput: Tensor) throws -> Tensor? {
        // bn2 turns gradOutput into the gradient at the sum, which both branches consume.
        gradients.retain(gradOutput)
        var main = try bn2.backward(gradOutput)!
        main = try conv2.backward(main)!
        main = try bn1.backward(main)!
        main = try conv1.backward(main)!
        let shortcut = try downsample?.backward(gradOutput) ?? gradOutput
        backend.add(main, shortcut, output: main)
        gradients.release(shortcut)
        return main
    }

    public var parameters: [Parameter] {
        conv1.parameters + bn1.parameters + conv2.parameters + bn2.parameters + (downsample?.parameters ?? [])
    }

    public var buffers: [Buffer] { bn1.buffers + bn2.buffers + (downsample?.buffers ?? []) }
    public var batchNorms: [BatchNorm2d] { [bn1, bn2] + (downsample?.batchNorms ?? []) }

    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        let block = String(layerName(conv1.weight).dropLast(".conv1".count))
        var x = graph.append(bn1.operation, conv1.describe(in: graph, input: input), name: bn1.name)
        x = graph.append(.relu, x, name: "\(block).relu1")
        x = graph.append(bn2.operation, conv2.describe(in: graph, input: x), name: bn2.name)
        let shortcut = downsample?.describe(in: graph, input: input) ?? input
        return graph.append(.relu, graph.append(.add, x, shortcut, name: "\(block).add"), name: "\(block).relu")
    }
}

/// ResNet-18 with torchvision's layout and names (BasicBlock x [2, 2, 2, 2], widths
/// 64/128/256/512), a one-channel stem and an 8-class head. Convolutions start Kaiming-normal
/// (fan_out, ReLU), batch norms at weight 1, bias 0, as torchvision initialises them.
///
/// Parameters: 11,171,784 with the small stem, 11,174,344 with the imagenet stem
/// (torchvision's 11,689,512 less the 3-channel 7x7 conv's extra weights and the 1000-class head).
public final class ResNet18: Classifier {
    public let name: String
    let network: Sequential

    public init(_ backend: any Backend, classes: Int = 8, stem: ResNetStem, seed: UInt64) throws {
        name = "ResNet-18 (\(stem.rawValue) stem)"
        // Every stem: one convolution from the gray face to 64 channels, batch norm, ReLU, and
        // (imagenet, medium) a max pool that halves the planes.
        let (kernel, stride, padding) = stem == .imagenet ? (7, 2, 3) : (3, 1, 1)
        var layers: [any Layer] = [
            try Conv2d(
                backend, name: "conv1", inChannels: 1, outChannels: 64, kernel: kernel, stride: stride, padding: padding,
                bias: false, initialization: .kaimingNormalFanOut, seed: seed, computesInputGradient: false),
            try BatchNorm2d(backend, name: "bn1", channels: 64, relu: true),
        ]
        if stem != .small { layers.append(MaxPool2d(backend, kernel: 3, stride: 2, padding: 1)) }
        var channels = 64
        for (stage, width) in [64, 128, 256, 512].enumerated() {
            for block in 0..<2 {
                let stride = stage > 0 && block == 0 ? 2 : 1
                layers.append(
                    try BasicBlock(
                        backend, name: "layer\(stage + 1).\(block)", inChannels: channels,
                        outChannels: width, stride: stride, seed: seed))
                channels = width
            }
        }
        layers.append(GlobalAvgPool(backend))
        layers.append(
            try Linear(backend, name: "fc", inFeatures: 512, outFeatures: classes, initialization: .pytorchDefault, seed: seed))
        network = Sequential(layers)
    }

    public func forward(_ images: Tensor, _ context: StepContext) throws -> Tensor { try network.forward(images, context) }
    /// The first convolution computes no input gradient, so nothing is left over to return.
    public func backward(_ gradLogits: Tensor) throws { _ = try network.backward(gradLogits) }
    public var parameters: [Parameter] { network.parameters }
    public var buffers: [Buffer] { network.buffers }
    public var batchNorms: [BatchNorm2d] { network.batchNorms }
    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        network.describe(in: graph, input: input)
    }
}
