import FacemineDevice

/// The seed project's small CNN (DESIGN.md §3): two conv-BN-ReLU-pool stages (each ReLU fused
/// into its batch norm), then dropout, 9216->128, ReLU, dropout, 128->classes. Parameter names
/// follow the PyTorch module.
public final class MyCNN: Classifier {
    public let name = "MyCNN"
    let body: Sequential
    /// Kept to report how many of its 128 units still fire (`--verbose`).
    let fc1: Linear

    public init(_ backend: any Backend, classes: Int = 8, dropout: Float = 0.5, seed: UInt64) throws {
        // fc1 sees 9216 non-negative inputs (pooled ReLUs) and feeds a ReLU. Adam moves every
        // weight of a unit by about the learning rate in the same direction when the unit's
        // error has one sign across the batch, shifting its input by ~lr x 9216 x mean input per
        // step: at 1e-3 most units are pushed below zero for every face within an epoch and
        // never fire again (measured on synthetic faces: 4% of units still firing after 10
        // epochs; with the scale below about half still fire after 15, and accuracy is higher).
        // So fc1's weights learn at a tenth of the network's rate, and start Kaiming-normal
        // (zero mean) rather than PyTorch's uniform default.
        fc1 = try Linear(
            backend, name: "fc1", inFeatures: 64 * 12 * 12, outFeatures: 128,
            initialization: .kaimingNormalFanIn, seed: seed)
        fc1.weight.learningRateScale = 0.1
        body = Sequential([
            try Conv2d(
                backend, name: "conv1", inChannels: 1, outChannels: 32, kernel: 3, padding: 1, bias: true,
                initialization: .kaimingNormalFanOut, seed: seed, computesInputGradient: false),
            try BatchNorm2d(backend, name: "bn1", channels: 32, relu: true),
            MaxPool2d(backend, kernel: 2, stride: 2),
            try Conv2d(
                backend, name: "conv2", inChannels: 32, outChannels: 64, kernel: 3, padding: 1, bias: true,
                initialization: .kaimingNormalFanOut, seed: seed),
            try BatchNorm2d(backend, name: "bn2", channels: 64, relu: true),
            MaxPool2d(backend, kernel: 2, stride: 2),
            Flatten(),
            Dropout(backend, name: "dropout1", probability: dropout),
            fc1,
            ReLU(backend),
            Dropout(backend, name: "dropout2", probability: dropout),
            try Linear(backend, name: "fc2", inFeatures: 128, outFeatures: classes, initialization: .pytorchDefault, seed: seed),
        ])
    }

    public func forward(_ images: Tensor, _ context: StepContext) throws -> Tensor {
        try body.forward(images, context)
    }

    public func backward(_ gradLogits: Tensor) throws { _ = try body.backward(gradLogits) }

    public var parameters: [Parameter] { body.parameters }
    public var buffers: [Buffer] { body.buffers }
    public var batchNorms: [BatchNorm2d] { body.batchNorms }
    public func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
        body.describe(in: graph, input: input)
    }

    /// The fc1 activations (after ReLU) of the last forward pass, [N, 128].
    public var hiddenActivations: Tensor? { fc1.lastOutput }
}
