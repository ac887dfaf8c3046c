import FacemineCPU
import FacemineDevice
import FacemineNN
import Foundation

/// Training steps per second on the three models, the work benchmarks/pytorch/throughput.py
/// times in PyTorch: forward, cross-entropy, backward and an Adam step on a fixed random batch.
enum TrainingThroughput {
    static func run(_ backend: CPUBackend, batch: Int, steps: Int, only filter: String?) throws {
        print("## Training throughput (forward + backward + Adam step), batch \(batch)\n")
        print("| model | images/s | ms per step |")
        print("|---|---:|---:|")
        let models: [(String, () throws -> any Classifier)] = [
            ("MyCNN", { try MyCNN(backend, seed: 0) }),
            ("ResNet-18 (small stem)", { try ResNet18(backend, stem: .small, seed: 0) }),
            ("ResNet-18 (imagenet stem)", { try ResNet18(backend, stem: .imagenet, seed: 0) }),
        ]
        var rng = UInt32(1)
        let images = try backend.makeTensor([batch, 1, 48, 48], values: (0..<(batch * 2304)).map { _ in
            rng = rng &* 1_664_525 &+ 1_013_904_223
            return Float(rng >> 8) / 8_388_608 - 1
        })
        let labels = try backend.makeTensor([batch], labels: (0..<batch).map { Int32($0 % 8) })
        for (name, make) in models where filter.map({ name.localizedCaseInsensitiveContains($0) }) ?? true {
            let model = try make()
            let loss = try CrossEntropyLoss(backend)
            let optimizer = Optimizer(backend, kind: .adam)
            var step: UInt64 = 0
            let seconds = medianSeconds(warmUp: 3, repeats: steps) {
                do {
                    let logits = try model.forward(images, StepContext(training: true, seed: 0, step: step))
                    let (value, gradient) = try loss.compute(logits: logits, labels: labels)
                    try model.backward(gradient)
                    try optimizer.step(model.parameters, learningRate: 1e-3)
                    _ = try backend.floats(value)
                    step += 1
                } catch {
                    fatalError("training step failed: \(error)")
                }
            }
            print("| \(name) | \(String(format: "%.1f", Double(batch) / seconds)) | \(String(format: "%.1f", seconds * 1e3)) |")
        }
        print("")
    }
}
