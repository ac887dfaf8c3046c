import FacemineBench
import FacemineCPU
import FacemineDevice
import FacemineNN
import Foundation

/// Convolutions timed inside real training steps (forward, loss, backward, Adam), per layer
/// shape: what share of a step each one really takes. The isolated timings above repeat one op
/// on operands that stay hot in cache, and can rank the algorithms differently.
extension OpBench {
    static let models: [(name: String, architecture: Architecture, stem: ResNetStem)] = [
        ("MyCNN", .mycnn, .small), ("ResNet-18 small", .resnet18, .small), ("ResNet-18 imagenet", .resnet18, .imagenet),
    ]

    func benchmarkInModel(_ backend: CPUBackend) throws {
        let shapes = LayerShapes(batch: batch)
        for (name, architecture, stem) in Self.models where selected(name) {
            let model = try architecture.make(backend, stem: stem, dropout: 0.5, seed: 0)
            let images = try random(backend, [batch, 1, 48, 48])
            let labels = try backend.makeTensor([batch], labels: (0..<batch).map { Int32($0 % 8) })
            let loss = try CrossEntropyLoss(backend)
            let optimizer = Optimizer(backend, kind: .adam)
            var step: UInt64 = 0
            func trainStep() throws {
                let logits = try model.forward(images, StepContext(training: true, seed: 0, step: step))
                let (value, gradient) = try loss.compute(logits: logits, labels: labels)
                try model.backward(gradient)
                try optimizer.step(model.parameters, learningRate: 1e-3)
                _ = try backend.floats(value)
                step += 1
            }
            for _ in 0..<2 { try trainStep() }
            let log = ConvolutionLog()
            backend.convolutionLog = log
            let start = Date()
            for _ in 0..<repeats { try trainStep() }
            let stepSeconds = Date().timeIntervalSince(start) / Double(repeats)
            backend.convolutionLog = nil

            print("## Inside training steps: \(name), batch \(batch) (\(repeats) steps of \(fixed(stepSeconds * 1e3, 1)) ms)\n")
            print("| layer | M x N x K | algorithm | calls/step | fwd ms | bwd ms | fwd+bwd GFLOP/s | share of step |")
            print("|---|---|---|---:|---:|---:|---:|---:|")
            var order: [ConvGeometry] = []
            for entry in log.entries where !order.contains(entry.geometry) { order.append(entry.geometry) }
            var convSeconds = 0.0
            for g in order {
                let forward = log.entries.filter { $0.geometry == g && !$0.backward }
                let backward = log.entries.filter { $0.geometry == g && $0.backward }
                let f = forward.map(\.seconds).reduce(0, +) / Double(repeats)
                let b = backward.map(\.seconds).reduce(0, +) / Double(repeats)
                convSeconds += f + b
                let calls = Double(forward.count) / Double(repeats)
                let passes = g.inChannels > 1 ? 3.0 : 2.0
                let label = shapes.convs.first { $0.model == name && $0.geometry == g }?.name ?? g.description
                print(
                    "| \(label) | \(g.gemmM) x \(g.gemmN) x \(g.gemmK) | \(ConvAlgorithm(g, threads: backend.threads)) | "
                        + "\(fixed(calls, 0)) | \(fixed(f * 1e3)) | \(fixed(b * 1e3)) | "
                        + "\(fixed(calls * passes * g.usefulFlops / (f + b) / 1e9, 1)) | \(fixed(100 * (f + b) / stepSeconds, 1))% |"
                )
            }
            print(
                "\nAll convolutions: \(fixed(convSeconds * 1e3, 1)) ms of the \(fixed(stepSeconds * 1e3, 1)) ms step "
                    + "(\(fixed(100 * convSeconds / stepSeconds, 1))%); the rest is batch norm, ReLU, pooling, the linear "
                    + "layers, the loss and Adam.\n")
        }
    }
}
