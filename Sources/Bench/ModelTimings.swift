import FacemineDevice
import FacemineNN

/// End-to-end timings of the three models: a training step (forward, cross-entropy, backward,
/// Adam, the loss read back) and an inference pass (evaluation-mode forward, predictions read
/// back), the same work benchmarks/pytorch/bench.py times in PyTorch. The first training step
/// is reported on its own: it allocates, and on OpenCL compiles CLBlast's kernels for new shapes.
struct ModelTimings {
    let label: String
    let makeBackend: () throws -> any Backend
    let options: BenchOptions
    let progress: (String) -> Void

    static let models: [(name: String, architecture: Architecture, stem: ResNetStem)] = [
        ("MyCNN", .mycnn, .small),
        ("ResNet-18 (small stem)", .resnet18, .small),
        ("ResNet-18 (medium stem)", .resnet18, .medium),
        ("ResNet-18 (imagenet stem)", .resnet18, .imagenet),
    ]

    func run() throws -> [BenchEntry] {
        var entries: [BenchEntry] = []
        for (name, architecture, stem) in Self.models where options.selects(name) {
            for batch in options.modelBatches {
                progress("\(label): \(name), batch \(batch)")
                // A backend of its own per model, so its memory figure is this model's alone.
                let backend = try makeBackend()
                let model = try architecture.make(backend, stem: stem, dropout: 0.5, seed: 0)
                let images = try backend.makeTensor([batch, 1, 48, 48], values: benchValues(batch * 2304))
                let labels = try backend.makeTensor([batch], labels: (0..<batch).map { Int32($0 % 8) })
                let predictions = try backend.makeTensor([batch], dtype: .int32)
                let loss = try CrossEntropyLoss(backend)
                let optimizer = Optimizer(backend, kind: .adam)
                var step: UInt64 = 0
                var peakBytes = 0
                func trainStep() throws {
                    let logits = try model.forward(images, StepContext(training: true, seed: 0, step: step))
                    peakBytes = max(peakBytes, backend.memoryStatistics.liveBytes)
                    let (value, gradient) = try loss.compute(logits: logits, labels: labels)
                    try model.backward(gradient)
                    try optimizer.step(model.parameters, learningRate: 1e-3)
                    _ = try backend.floats(value)
                    step += 1
                }
                let first = try onceSeconds(backend, trainStep)
                let train = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats, trainStep)
                let inference = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
                    let logits = try model.forward(images, StepContext(training: false))
                    backend.argmaxRows(logits, into: predictions)
                    _ = try backend.int32s(predictions)
                }
                var t = BenchEntry(backend: label, group: .train, name: name, batch: batch, seconds: train)
                t.imagesPerSecond = Double(batch) / train
                t.memoryBytes = peakBytes
                var f = BenchEntry(
                    backend: label, group: .startup, name: "first training step, \(name)", batch: batch, seconds: first)
                f.imagesPerSecond = Double(batch) / first
                var i = BenchEntry(backend: label, group: .inference, name: name, batch: batch, seconds: inference)
                i.imagesPerSecond = Double(batch) / inference
                entries += [t, i, f]
            }
        }
        return entries
    }
}
