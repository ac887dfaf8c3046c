import FacemineBackends
import FacemineDevice
import FacemineNN
import Testing

/// Finite-difference checks of whole networks: the layers' backward passes chained together
/// (residual sums, in-place ReLUs, batch norm in training mode, dropout, pooling) must give the
/// gradient of the loss they compute. Float32 central differences on a sample of parameters.
@Suite struct WholeModelGradientTests {
    let backend = try! BackendChoice.cpu.makeBackend(threads: 2).backend

    /// A small ResNet: stem conv-BN-ReLU, a projection BasicBlock, an identity BasicBlock, pool, linear.
    final class SmallResNet: Classifier {
        let name = "small ResNet"
        let network: Sequential
        init(_ backend: any Backend) throws {
            network = Sequential([
                try Conv2d(
                    backend, name: "conv1", inChannels: 1, outChannels: 4, kernel: 3, padding: 1, bias: false,
                    initialization: .kaimingNormalFanOut, seed: 3, computesInputGradient: false),
                try BatchNorm2d(backend, name: "bn1", channels: 4), ReLU(backend),
                MaxPool2d(backend, kernel: 3, stride: 2, padding: 1),
                try BasicBlock(backend, name: "layer1.0", inChannels: 4, outChannels: 6, stride: 2, seed: 3),
                try BasicBlock(backend, name: "layer1.1", inChannels: 6, outChannels: 6, stride: 1, seed: 3),
                GlobalAvgPool(backend),
                try Linear(backend, name: "fc", inFeatures: 6, outFeatures: 5, initialization: .pytorchDefault, seed: 3),
            ])
        }
        func forward(_ images: Tensor, _ context: StepContext) throws -> Tensor { try network.forward(images, context) }
        func backward(_ gradLogits: Tensor) throws { _ = try network.backward(gradLogits) }
        var parameters: [Parameter] { network.parameters }
        var buffers: [Buffer] { network.buffers }
        var batchNorms: [BatchNorm2d] { network.batchNorms }
        func describe(in graph: InferenceGraph, input: InferenceGraph.Value) -> InferenceGraph.Value {
            network.describe(in: graph, input: input)
        }
    }

    func check(_ model: any Classifier, imageSide: Int, batch: Int, classes: Int, samplesPerParameter: Int) throws {
        var values = [Float](repeating: 0, count: batch * imageSide * imageSide)
        for i in values.indices { values[i] = Float((i * 7919) % 1000) / 500 - 1 }
        let images = try backend.makeTensor([batch, 1, imageSide, imageSide], values: values)
        let labels = try backend.makeTensor([batch], labels: (0..<batch).map { Int32($0 % classes) })
        let loss = try CrossEntropyLoss(backend, labelSmoothing: 0.1)
        let context = StepContext(training: true, seed: 9, step: 4)
        func lossValue() throws -> Double {
            let logits = try model.forward(images, context)
            return Double(try backend.floats(loss.compute(logits: logits, labels: labels).loss)[0])
        }
        let logits = try model.forward(images, context)
        try model.backward(loss.compute(logits: logits, labels: labels).gradient)
        var analytic: [Double] = [], numeric: [Double] = []
        for p in model.parameters {
            let gradient = try backend.floats(p.gradient)
            var value = try backend.floats(p.value)
            for s in 0..<min(samplesPerParameter, value.count) {
                let i = (s * 7_368_787) % value.count
                let original = value[i], h: Float = 1e-2
                value[i] = original + h
                backend.upload(value, to: p.value)
                let plus = try lossValue()
                value[i] = original - h
                backend.upload(value, to: p.value)
                let minus = try lossValue()
                value[i] = original
                backend.upload(value, to: p.value)
                analytic.append(Double(gradient[i]))
                numeric.append((plus - minus) / Double(2 * h))
            }
        }
        // Max pooling and ReLU have kinks: a step that moves a pooled maximum or crosses zero makes
        // the difference quotient of a few entries meaningless. So: nearly every entry must agree
        // closely, and the whole vector must agree overall.
        let scale = numeric.map { abs($0) }.max() ?? 0
        let agreeing = zip(analytic, numeric).filter { abs($0 - $1) <= 0.05 * abs($1) + 0.01 * scale }.count
        let error =
            zip(analytic, numeric).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            / numeric.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(scale > 1e-3, "gradients too small to check")
        #expect(
            Double(agreeing) >= 0.9 * Double(analytic.count),
            "\(model.name): only \(agreeing) of \(analytic.count) gradient entries match their finite differences")
        #expect(error < 0.15, "\(model.name): relative gradient error \(error)")
    }

    @Test func smallResNet() throws {
        try check(SmallResNet(backend), imageSide: 12, batch: 4, classes: 5, samplesPerParameter: 6)
    }

    @Test func myCNN() throws {
        try check(MyCNN(backend, dropout: 0.3, seed: 2), imageSide: 48, batch: 3, classes: 8, samplesPerParameter: 3)
    }
}

extension Backend {
    func upload(_ values: [Float], to tensor: Tensor) {
        values.withUnsafeBufferPointer { upload($0, to: tensor) }
    }
}
