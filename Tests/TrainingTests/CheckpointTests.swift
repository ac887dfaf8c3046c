import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineTraining
import Foundation
import Testing

@Suite struct SafeTensorsTests {
    @Test func roundTripsTensorsAndMetadata() throws {
        var file = SafeTensors(metadata: ["model": "x", "note": "ünïcode"])
        file.tensors["a.weight"] = .init(floats: [1, -2.5, 3, 4, 5, 6], shape: [2, 3])
        file.tensors["a.count"] = .init(int64: 42)
        let bytes = try file.encoded()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0, "header padded to 8 bytes")
        let read = try SafeTensors(bytes: bytes, name: "t")
        #expect(read == file)
        #expect(read.tensors["a.weight"]!.floats == [1, -2.5, 3, 4, 5, 6])
    }

    /// Broken files of every kind end in a DataError, never a crash.
    @Test func hostileBytesAreRefusedClearly() throws {
        var file = SafeTensors()
        file.tensors["w"] = .init(floats: [1, 2, 3, 4], shape: [4])
        let good = try file.encoded()
        var cases: [[UInt8]] = [[], [1, 2, 3], Array(good.prefix(20)), Array(good.dropLast(4))]
        cases.append([255, 255, 255, 255, 255, 255, 255, 127] + good.dropFirst(8))  // absurd header length
        var wrongShape = String(decoding: good, as: UTF8.self)
        wrongShape = wrongShape.replacingOccurrences(of: "[4]", with: "[5]")
        cases.append(Array(wrongShape.utf8))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var mutated = good
            for _ in 0..<3 { mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            cases.append(mutated)
        }
        var refused = 0
        for bytes in cases {
            do {
                _ = try SafeTensors(bytes: bytes, name: "fuzz")
            } catch is DataError {
                refused += 1
            }
        }
        #expect(refused >= 6, "the hand-made broken files are all refused")
    }
}

@Suite struct CheckpointTests {
    func makeTrainer(
        epochs: Int, model: Architecture = .mycnn, threads: Int = 2,
        _ configure: (inout TrainingConfiguration) -> Void = { _ in }
    ) throws -> Trainer {
        var c = TrainingConfiguration()
        c.model = model
        c.stem = .imagenet
        c.epochs = epochs
        c.batchSize = 16
        c.dropout = 0.3
        c.schedule = .plateau
        c.optimizer = .adam
        configure(&c)
        let faces = SyntheticFaces(count: 120, seed: 4).generate(threads: 2)
        let split = Splits.holdOut(faces.records, fraction: 0.2, seed: 4)
        return try Trainer(
            configuration: c, backend: BackendChoice.cpu.makeBackend(threads: threads).backend,
            dataset: faces, trainIndices: split.train, validationIndices: split.validation)
    }

    func folder() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("facemine-ckpt-\(UUID().uuidString)") }

    func weights(_ t: Trainer) throws -> [[Float]] { try t.model.parameters.map { try t.backend.floats($0.value) } }

    /// Stopping after every epoch and resuming from last.safetensors in a fresh trainer (a new
    /// process, as after a kill) ends in exactly the weights of an uninterrupted run.
    @Test(arguments: [Architecture.mycnn, .resnet18])
    func resumingAfterEachEpochMatchesAnUninterruptedRun(_ model: Architecture) throws {
        let epochs = model == .mycnn ? 3 : 2
        let whole = try makeTrainer(epochs: epochs, model: model)
        _ = try whole.run { _ in }
        let dir = folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try makeTrainer(epochs: 1, model: model)
        _ = try first.run(checkpoints: dir) { _ in }
        for done in 1..<epochs {
            let file = try SafeTensors(contentsOf: dir.appendingPathComponent("last.safetensors"))
            let (config, state) = try Checkpoint.describe(file, location: "last")
            #expect(state.epochsDone == done && config.epochs == done)
            let next = try makeTrainer(epochs: done + 1, model: model)
            try next.resume(from: file, location: "last")
            _ = try next.run(checkpoints: dir) { _ in }
            if done + 1 == epochs {
                #expect(try weights(next) == weights(whole), "resumed weights differ from the uninterrupted run")
                #expect(next.state.history.map(\.trainLoss) == whole.state.history.map(\.trainLoss))
            }
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("best.safetensors").path))
    }

    /// With mixup, CutMix and a weight average the run resumes exactly too: the mixing is keyed
    /// by step and the average travels in last.safetensors.
    @Test func resumingWithMixingAndAWeightAverageMatchesAnUninterruptedRun() throws {
        let tools: (inout TrainingConfiguration) -> Void = {
            $0.mixupAlpha = 0.3; $0.cutmixAlpha = 1; $0.emaDecay = 0.8; $0.tta = .flip
        }
        let whole = try makeTrainer(epochs: 2, tools)
        _ = try whole.run { _ in }
        let dir = folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeTrainer(epochs: 1, tools).run(checkpoints: dir) { _ in }
        let next = try makeTrainer(epochs: 2, tools)
        try next.resume(from: try SafeTensors(contentsOf: dir.appendingPathComponent("last.safetensors")), location: "last")
        _ = try next.run(checkpoints: dir) { _ in }
        #expect(try weights(next) == weights(whole))
        #expect(next.state.history.map(\.trainLoss) == whole.state.history.map(\.trainLoss))
        #expect(next.state.history.map(\.trainAccuracy) == whole.state.history.map(\.trainAccuracy), "mixed accuracies")
        #expect(next.state.history.map(\.validation) == whole.state.history.map(\.validation), "averaged-weight validation")
    }

    /// Deferred re-balancing, 2 epochs after 2: the run is 4 epochs long, the re-balancing ones
    /// at a tenth of the rate and decaying it, and a run stopped inside a re-balancing epoch
    /// resumes to the weights and validations of an uninterrupted one (the weight average
    /// restarted where the re-balancing began, which the checkpoint keeps).
    @Test func aRunWithRebalancingEpochsResumesExactly() throws {
        let tools: (inout TrainingConfiguration) -> Void = {
            $0.rebalanceEpochs = 2; $0.emaDecay = 0.8; $0.schedule = .constant; $0.warmupEpochs = 0
        }
        let whole = try makeTrainer(epochs: 2, tools)
        var notes: [String] = []
        _ = try whole.run { if case let .note(line) = $0 { notes.append(line) } }
        #expect(notes.contains { $0.hasPrefix("epochs 3-4 re-balance: every class drawn equally often") }, "\(notes)")
        let rates = whole.state.history.map(\.learningRate)
        #expect(rates.count == 4 && rates[1] == Double(Float(1e-3)), "\(rates)")
        #expect(rates[2] <= 1e-4 && rates[2] > rates[3], "the re-balancing epochs' rates \(rates)")
        let dir = folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try makeTrainer(epochs: 2, tools)
        let perEpoch = first.stepsPerEpoch
        var batches = 0
        first.shouldStop = { batches == 2 * perEpoch + 3 }
        #expect(throws: TrainingInterrupted.self) {
            _ = try first.run(checkpoints: dir) { if case .batch = $0 { batches += 1 } }
        }
        let file = try SafeTensors(contentsOf: dir.appendingPathComponent("last.safetensors"))
        let (_, saved) = try Checkpoint.describe(file, location: "last")
        #expect(saved.epochsDone == 2 && saved.partialEpoch?.batchesDone == 3 && saved.rebalanceStartStep == 2 * perEpoch)
        let next = try makeTrainer(epochs: 2, tools)
        try next.resume(from: file, location: "last")
        _ = try next.run(checkpoints: dir) { _ in }
        #expect(try weights(next) == weights(whole))
        #expect(next.state.history.map(\.validation) == whole.state.history.map(\.validation))
        // Early stopping would end a run before its re-balancing epochs: refused.
        var both = TrainingConfiguration()
        both.rebalanceEpochs = 2
        both.earlyStoppingPatience = 3
        #expect(both.problem?.hasPrefix("earlyStoppingPatience and rebalanceEpochs exclude each other") == true, "\(both.problem ?? "")")
    }

    @Test func aCheckpointOfAnotherModelIsRefusedByTensorName() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mycnn = try makeTrainer(epochs: 1)
        _ = try mycnn.run(checkpoints: dir) { _ in }
        let file = try SafeTensors(contentsOf: dir.appendingPathComponent("last.safetensors"))
        let backend = try BackendChoice.cpu.makeBackend(threads: 1).backend
        let resnet = try ResNet18(backend, stem: .small, seed: 0)
        #expect(throws: DataError("ck", "tensor conv1.weight has shape [32, 1, 3, 3], the model needs [64, 1, 3, 3]")) {
            try Checkpoint.loadWeights(file, into: resnet, backend: backend, location: "ck")
        }
        var wrong = file
        wrong.tensors["fc2.weight"] = .init(floats: [Float](repeating: 0, count: 7 * 128), shape: [7, 128])
        #expect(throws: DataError("ck", "tensor fc2.weight has shape [7, 128], the model needs [8, 128]")) {
            try Checkpoint.loadWeights(wrong, into: MyCNN(backend, seed: 0), backend: backend, location: "ck")
        }
    }

    /// A torchvision ResNet-18 state dict (3-channel conv1, 1000-class head), as the test writes it.
    @Test func torchvisionWeightsLoadWithConv1FoldedToGray() throws {
        let backend = try BackendChoice.cpu.makeBackend(threads: 1).backend
        let source = try ResNet18(backend, classes: 1000, stem: .imagenet, seed: 7)
        var file = SafeTensors()
        for p in source.parameters where p.name != "conv1.weight" {
            file.tensors[p.name] = .init(floats: try backend.floats(p.value), shape: p.value.shape)
        }
        let rgb = (0..<(64 * 3 * 49)).map { Float($0 % 97) / 97 }
        file.tensors["conv1.weight"] = .init(floats: rgb, shape: [64, 3, 7, 7])
        let model = try ResNet18(backend, stem: .imagenet, seed: 1)
        let notes = try PretrainedWeights.load(file, into: model, backend: backend, location: "resnet18.safetensors")
        #expect(notes.contains { $0.contains("fc.weight") }, "the 1000-class head is named as kept")
        let conv1 = try backend.floats(model.parameters[0].value)
        #expect(abs(conv1[0] - (rgb[0] + rgb[49] + rgb[98])) < 1e-6, "RGB summed into one channel")
        let layer = model.parameters.firstIndex { $0.name == "layer3.1.conv2.weight" }!
        #expect(try backend.floats(model.parameters[layer].value) == backend.floats(source.parameters[layer].value))
        #expect(throws: DataError.self) {
            try PretrainedWeights.load(
                SafeTensors(tensors: ["other": .init(floats: [1], shape: [1])]),
                into: model, backend: backend, location: "x")
        }
    }
}
