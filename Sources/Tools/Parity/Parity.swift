import ArgumentParser
import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineTraining
import Foundation

/// Writes one fixed forward + backward pass to a safetensors file for
/// benchmarks/pytorch/parity.py: the weights (PyTorch names), the input batch and labels, and
/// facemine's logits, loss and every parameter's gradient. PyTorch loads the same weights, runs
/// the same batch, and compares.
@main
struct Parity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facemine-parity",
        abstract: "Export a fixed-input forward/backward pass for comparison with PyTorch.")

    @Option(help: "mycnn or resnet18.") var model = "mycnn"
    @Option(help: "ResNet-18 stem: small or imagenet.") var stem = "small"
    @Option(help: "Faces in the batch.") var batch = 8
    @Option(help: "Output file.") var out = "parity.safetensors"
    @Option(help: "Seed of the weights and faces.") var seed: UInt64 = 0
    @Option(
        help: ArgumentHelp(
            "Instead: write the synthetic faces and the train/validation split `facemine train --seed S` uses (for benchmarks/pytorch/train_synthetic.py).",
            valueName: "file"))
    var exportData: String?
    @Option(help: "Synthetic faces to export.") var count = 6000
    @Option(help: ArgumentHelp("Backend: \(BackendChoice.names).")) var backend = "cpu"
    @Option(help: "CPU threads.") var threads = 2

    func run() throws {
        if let exportData {
            let faces = SyntheticFaces(count: count, seed: seed).generate()
            let split = Splits.holdOut(faces.records, fraction: TrainingConfiguration().validationFraction, seed: seed)
            var file = SafeTensors(metadata: ["seed": String(seed)])
            file.tensors["images"] = .init(dtype: .u8, shape: [faces.count, 48, 48], bytes: faces.pixels)
            file.tensors["labels"] = .init(int64s: faces.records.map { Int64($0.label.rawValue) }, shape: [faces.count])
            file.tensors["train"] = .init(int64s: split.train.map(Int64.init), shape: [split.train.count])
            file.tensors["validation"] = .init(int64s: split.validation.map(Int64.init), shape: [split.validation.count])
            try file.write(to: URL(fileURLWithPath: exportData))
            print("wrote \(exportData): \(faces.count) faces, \(split.train.count) train / \(split.validation.count) validation")
            return
        }
        guard let choice = BackendChoice(rawValue: self.backend) else {
            throw ValidationError("--backend must be \(BackendChoice.names)")
        }
        let backend = try choice.makeBackend(threads: threads).backend
        guard let architecture = Architecture(rawValue: model), let resnetStem = ResNetStem(rawValue: stem) else {
            throw ValidationError("unknown model or stem")
        }
        // Dropout off: the two frameworks draw different masks, everything else must agree.
        let network = try architecture.make(backend, stem: resnetStem, dropout: 0, seed: seed)
        var file = SafeTensors()
        for p in network.parameters { file.tensors[p.name] = .init(floats: try backend.floats(p.value), shape: p.value.shape) }
        for b in network.buffers { file.tensors[b.name] = .init(floats: try backend.floats(b.value), shape: b.value.shape) }

        let faces = SyntheticFaces(count: batch, seed: seed).generate()
        let first = Array(PrefetchingBatcher(dataset: faces, order: Array(0..<batch), batchSize: batch, seed: seed, epoch: 0))[0]
        let images = try backend.makeTensor([batch, 1, 48, 48], values: first.images)
        let labels = try backend.makeTensor([batch], labels: first.labels)
        let loss = try CrossEntropyLoss(backend)
        // Every ReLU's input, so that PyTorch can take facemine's decisions where an input is
        // within rounding of zero (parity.py).
        let reluInputs = ReLUInputs()
        var context = StepContext(training: true, seed: seed, step: 0)
        context.reluInputObserver = { tensor in reluInputs.append(try backend.floats(tensor), tensor.shape) }
        let logits = try network.forward(images, context)
        let (value, gradient) = try loss.compute(logits: logits, labels: labels)
        try network.backward(gradient)

        file.tensors["input"] = .init(floats: first.images, shape: [batch, 1, 48, 48])
        file.tensors["labels"] = .init(floats: first.labels.map(Float.init), shape: [batch])
        file.tensors["logits"] = .init(floats: try backend.floats(logits), shape: logits.shape)
        file.tensors["loss"] = .init(floats: try backend.floats(value), shape: [1])
        for p in network.parameters {
            file.tensors["grad.\(p.name)"] = .init(floats: try backend.floats(p.gradient), shape: p.value.shape)
        }
        for (i, (values, shape)) in reluInputs.all.enumerated() {
            file.tensors["relu_input.\(i)"] = .init(floats: values, shape: shape)
        }
        file.metadata = ["model": model, "stem": stem]
        try file.write(to: URL(fileURLWithPath: out))
        print("wrote \(out): \(network.name), batch \(batch), loss \(try backend.floats(value)[0])")
    }
}

/// The ReLU inputs of one forward pass, in order (the observer must be Sendable).
final class ReLUInputs: @unchecked Sendable {
    private(set) var all: [([Float], [Int])] = []
    func append(_ values: [Float], _ shape: [Int]) { all.append((values, shape)) }
}
