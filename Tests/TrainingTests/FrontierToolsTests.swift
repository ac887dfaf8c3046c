import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineTraining
import Foundation
import Testing

/// Mixup and CutMix's loss, the weight average, and test-time augmentation.
@Suite struct FrontierToolsTests {
    let backend: any Backend = try! BackendChoice.cpu.makeBackend(threads: 2).backend

    /// The mixed loss and gradient are the weighted sums of the losses against either label.
    @Test func mixedLossIsTheBlendOfTheTwoLosses() throws {
        let loss = try CrossEntropyLoss(backend, labelSmoothing: 0.1)
        let logits = try backend.makeTensor([4, 8], values: (0..<32).map { Float(($0 * 7) % 11) / 5 - 1 })
        let a = try backend.makeTensor([4], labels: [0, 3, 7, 2]), b = try backend.makeTensor([4], labels: [5, 3, 1, 6])
        let (la, ga) = try loss.compute(logits: logits, labels: a)
        let lossA = try backend.floats(la), gradA = try backend.floats(ga)
        let (lb, gb) = try loss.compute(logits: logits, labels: b)
        let lossB = try backend.floats(lb), gradB = try backend.floats(gb)
        let (lm, gm) = try loss.compute(logits: logits, labels: a, partnerLabels: b, weight: 0.3)
        #expect(abs(try backend.floats(lm)[0] - (0.3 * lossA[0] + 0.7 * lossB[0])) < 1e-6)
        for (m, (x, y)) in zip(try backend.floats(gm), zip(gradA, gradB)) { #expect(abs(m - (0.3 * x + 0.7 * y)) < 1e-6) }
    }

    @Test func theWeightAverageFollowsItsFormulaAndStandsInOnlyWhenAsked() throws {
        let model = try MyCNN(backend, seed: 1)
        let average = try WeightAverage(model: model, decay: 0.9, backend: backend)
        let p = model.parameters[0]
        let start = try backend.floats(p.value)
        let moved = start.map { $0 + 1 }
        backend.copy(try backend.makeTensor(p.value.shape, values: moved), to: p.value)
        average.update(step: 1)  // decay min(0.9, 2 / 11)
        let d: Float = 2.0 / 11
        let expected = zip(start, moved).map { d * $0 + (1 - d) * $1 }
        let seen = try average.withAveragedWeights { try backend.floats(p.value) }
        for (s, e) in zip(seen, expected) { #expect(abs(s - e) < 1e-5) }
        #expect(try backend.floats(p.value) == moved, "the model's own weights are back")
        #expect(average.named.first?.name == "ema.\(p.name)")
    }

    /// Flip TTA is the mean of the softmax of the face and of its mirror image, computed here
    /// from two plain forward passes; post-hoc adjustment reweights by exp(-tau log prior).
    @Test func predictorAveragesTheViewsAndAppliesThePosthocAdjustment() throws {
        let model = try MyCNN(backend, seed: 3)
        let faces = SyntheticFaces(count: 6, seed: 3).generate(threads: 1)
        let images = (0..<6).flatMap { i in faces.image(i).map { (Float($0) / 255 - 0.5) / 0.5 } }
        let mirrored = TestTimeAugmentation.flip.views(of: images, count: 6, shift: 0, fill: -1)[0]
        func softmax(_ x: [Float]) throws -> [Double] {
            let logits = try backend.floats(
                model.forward(try backend.makeTensor([6, 1, 48, 48], values: x), StepContext(training: false)))
            return (0..<6).flatMap { r -> [Double] in
                let z = logits[(r * 8)..<((r + 1) * 8)].map(Double.init), top = z.max()!
                let e = z.map { exp($0 - top) }
                return e.map { $0 / e.reduce(0, +) }
            }
        }
        let expected = zip(try softmax(images), try softmax(mirrored)).map { ($0 + $1) / 2 }
        let flip = try Predictor(model: model, backend: backend, tta: .flip, shift: 2).probabilities(images, count: 6)
        for (p, e) in zip(flip, expected) { #expect(abs(p - e) < 1e-6) }
        let priors: [Float] = [-1, -3, -1.5, -0.5, -1.2, -1.4, -1, -4]
        let adjusted = try Predictor(
            model: model, backend: backend, tta: .none, shift: 2, posthocAdjustment: 1,
            logPriors: priors
        ).probabilities(images, count: 6)
        let plain = try softmax(images)
        for r in 0..<6 {
            let w = (0..<8).map { plain[r * 8 + $0] * exp(-Double(priors[$0])) }
            for c in 0..<8 { #expect(abs(adjusted[r * 8 + c] - w[c] / w.reduce(0, +)) < 1e-6) }
        }
    }

    /// Training with mixup, CutMix, aspect jitter, random erasing, a weight average and TenCrop
    /// validation: it learns, training accuracy is fractional (mixed labels), validation uses
    /// the average, and best.safetensors holds the averaged weights that scored best.
    @Test func everyToolTogetherTrainsAndBestHoldsTheAverage() throws {
        var c = TrainingConfiguration()
        c.epochs = 4
        c.batchSize = 16
        c.mixupAlpha = 0.4
        c.cutmixAlpha = 1
        c.emaDecay = 0.9
        c.tta = .tencrop
        c.augmentation.aspect = 0.2
        c.augmentation.erasing = 0.5
        let faces = SyntheticFaces(count: 240, seed: 5).generate(threads: 2)
        let split = Splits.holdOut(faces.records, fraction: 0.2, seed: 5)
        let trainer = try Trainer(
            configuration: c, backend: backend, dataset: faces,
            trainIndices: split.train, validationIndices: split.validation)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-tools-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let history = try trainer.run(checkpoints: dir) { _ in }
        #expect(history.last!.trainLoss < history.first!.trainLoss, "loss \(history.map(\.trainLoss))")
        #expect(
            history.contains {
                ($0.trainAccuracy * Double(trainer.stepsPerEpoch * 16)).rounded() != $0.trainAccuracy
                    * Double(trainer.stepsPerEpoch * 16)
            },
            "mixed labels give fractional hits")
        let best = try SafeTensors(contentsOf: dir.appendingPathComponent("best.safetensors"))
        let last = try SafeTensors(contentsOf: dir.appendingPathComponent("last.safetensors"))
        let name = trainer.model.parameters[0].name
        #expect(last.tensors["ema.\(name)"] != nil && best.tensors["ema.\(name)"] == nil)
        if trainer.keptEpoch == c.epochs {
            #expect(best.tensors[name]!.floats == last.tensors["ema.\(name)"]!.floats, "best holds the average")
        }
        // Scoring the best checkpoint again gives the score it was kept for.
        let fresh = try Trainer(
            configuration: c, backend: backend, dataset: faces, trainIndices: split.train, validationIndices: [])
        try Checkpoint.loadWeights(best, into: fresh.model, backend: backend, location: "best")
        let rescored = try fresh.evaluate(split.validation).0
        #expect(abs(rescored.macroF1 - history[trainer.keptEpoch! - 1].validation!.macroF1) < 1e-12)
    }
}
