import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineTraining
import Foundation
import Testing

@Suite struct MetricsTests {
    @Test func scoresFollowScikitLearnDefinitions() {
        // truth:      0 0 0 1 1 2
        // prediction: 0 0 1 1 2 2
        var m = ConfusionMatrix(classes: 3)
        for (t, p) in [(0, 0), (0, 0), (0, 1), (1, 1), (1, 2), (2, 2)] { m.add(truth: t, prediction: p) }
        #expect(abs(m.accuracy - 4.0 / 6) < 1e-12)
        #expect(abs(m.precision(0) - 1) < 1e-12 && abs(m.recall(0) - 2.0 / 3) < 1e-12)
        #expect(abs(m.precision(1) - 0.5) < 1e-12 && abs(m.recall(1) - 0.5) < 1e-12)
        #expect(abs(m.precision(2) - 0.5) < 1e-12 && abs(m.recall(2) - 1) < 1e-12)
        let f1 = [0.8, 0.5, 2.0 / 3]
        #expect(abs(m.macroF1 - f1.reduce(0, +) / 3) < 1e-12)
        #expect(abs(m.weightedF1 - (3 * f1[0] + 2 * f1[1] + 1 * f1[2]) / 6) < 1e-12)
        #expect(abs(m.worstRecall - 0.5) < 1e-12)
    }

    @Test func absentClassesDoNotCountInMacroF1() {
        var m = ConfusionMatrix(classes: 8)
        m.add(truth: 0, prediction: 0)
        m.add(truth: 1, prediction: 1)
        #expect(m.macroF1 == 1)
    }
}

@Suite struct TrainerTests {
    func makeTrainer(_ configure: (inout TrainingConfiguration) -> Void = { _ in }) throws -> Trainer {
        var c = TrainingConfiguration()
        c.epochs = 3
        c.batchSize = 16
        c.augmentation = .none
        c.dropout = 0
        c.schedule = .constant
        c.warmupEpochs = 0
        configure(&c)
        let faces = SyntheticFaces(count: 160, seed: 1).generate(threads: 2)
        let split = Splits.holdOut(faces.records, fraction: 0.2, seed: 1)
        return try Trainer(
            configuration: c, backend: BackendChoice.cpu.makeBackend(threads: 2).backend, dataset: faces,
            trainIndices: split.train, validationIndices: split.validation)
    }

    @Test func trainingLowersTheLossAndReportsEveryEpoch() throws {
        let trainer = try makeTrainer { $0.epochs = 6 }
        var batches = 0
        let history = try trainer.run { event in if case .batch = event { batches += 1 } }
        #expect(history.count == 6)
        #expect(batches == 6 * trainer.stepsPerEpoch)
        #expect(history.last!.trainLoss < history.first!.trainLoss * 0.8, "loss \(history.map(\.trainLoss))")
        #expect(history.allSatisfy { $0.validation != nil && $0.liveHiddenUnits != nil })
        #expect(history.last!.validation!.confusion.total == trainer.validationIndices.count)
    }

    /// Same seed and thread count, same result, to the last bit.
    @Test func deterministicOnTheCPUBackend() throws {
        let a = try makeTrainer {
            $0.dropout = 0.3; $0.augmentation = Augmentation()
        }
        let b = try makeTrainer {
            $0.dropout = 0.3; $0.augmentation = Augmentation()
        }
        let ha = try a.run { _ in }, hb = try b.run { _ in }
        #expect(ha.map(\.trainLoss) == hb.map(\.trainLoss))
        for (p, q) in zip(a.model.parameters, b.model.parameters) {
            #expect(try a.backend.floats(p.value) == b.backend.floats(q.value), "\(p.name) differs")
        }
    }

    @Test(arguments: [OptimizerKind.sgd, .adam, .adamw])
    func everyOptimizerAndAResNetTrain(_ kind: OptimizerKind) throws {
        let trainer = try makeTrainer {
            $0.optimizer = kind
            $0.learningRate = kind == .sgd ? 0.05 : 1e-3
            $0.epochs = 2
            $0.schedule = .cosine
            $0.weightedSampler = kind == .adamw
            $0.classWeightedLoss = kind == .sgd
            $0.labelSmoothing = 0.1
            if kind == .adam { $0.model = .resnet18; $0.stem = .imagenet }
        }
        let history = try trainer.run { _ in }
        #expect(history.allSatisfy { $0.trainLoss.isFinite && $0.validation!.loss.isFinite })
    }

    /// `keep` last: every epoch's weights replace best.safetensors, so it ends as the last
    /// epoch's, whatever validation preferred; the summary names that epoch, and stopping early
    /// (which waits for a better epoch) is refused beside it.
    @Test func keepingTheLastEpochWritesItsWeightsAsTheModel() throws {
        let trainer = try makeTrainer { $0.keep = .last; $0.learningRate = 0.01 }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-keep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let history = try trainer.run(checkpoints: dir) { _ in }
        #expect(history.map(\.newBest) == [true, true, true])
        #expect(trainer.keptEpoch == 3)
        let best = try SafeTensors(contentsOf: dir.appendingPathComponent("best.safetensors"))
        for p in trainer.model.parameters {
            #expect(best.tensors[p.name]?.floats == (try trainer.backend.floats(p.value)), "\(p.name)")
        }
        let summary = RunSummary(
            model: trainer.model.name, parameters: trainer.model.parameterCount,
            configuration: trainer.configuration, backend: "cpu", device: trainer.backend.deviceDescription,
            threads: 2, data: .init(description: "test", faces: 160, classCounts: [], trainFaces: 128, validationFaces: 32),
            history: history, wallSeconds: 1, trainImagesPerSecond: 1)
        #expect(summary.best?.epoch == 3 && summary.best == summary.last)
        var both = trainer.configuration
        both.earlyStoppingPatience = 2
        #expect(both.problem?.hasPrefix("earlyStoppingPatience needs keep best") == true, "\(both.problem ?? "")")
    }

    @Test func metricsFileIsValidJSON() throws {
        let trainer = try makeTrainer { $0.epochs = 1 }
        let history = try trainer.run { _ in }
        let summary = RunSummary(
            model: trainer.model.name, parameters: trainer.model.parameterCount,
            configuration: trainer.configuration, backend: "cpu", device: trainer.backend.deviceDescription,
            threads: 2, data: .init(description: "test", faces: 160, classCounts: [], trainFaces: 128, validationFaces: 32),
            history: history, wallSeconds: 1, trainImagesPerSecond: 1)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-\(UUID().uuidString)/metrics.json")
        try RunFiles.writeJSON(summary, to: url)
        let decoded = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: url))
        #expect(decoded.history == history)
        #expect(decoded.configuration == trainer.configuration)
        try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }
}

@Suite struct ClippingTests {
    /// With SGD (no momentum, no decay, rate 1) one step moves the weights by exactly the applied
    /// gradient, so its norm shows the clipping: at most the limit with it, far more without.
    @Test func gradientNormClippingBoundsTheUpdate() throws {
        func stepNorm(clip: Float) throws -> Double {
            var c = TrainingConfiguration()
            c.epochs = 1
            c.batchSize = 32
            c.optimizer = .sgd
            c.momentum = 0
            c.weightDecay = 0
            c.learningRate = 1
            c.schedule = .constant
            c.warmupEpochs = 0
            c.dropout = 0
            c.clipGradientNorm = clip
            let faces = SyntheticFaces(count: 32, seed: 2).generate(threads: 2)
            let t = try Trainer(
                configuration: c, backend: BackendChoice.cpu.makeBackend(threads: 2).backend,
                dataset: faces, trainIndices: Array(0..<32), validationIndices: [])
            // fc1's weights learn at a tenth of the rate: leave them out of the sum.
            let watched = t.model.parameters.filter { $0.learningRateScale == 1 }
            let before = try watched.map { try t.backend.floats($0.value) }
            _ = try t.run { _ in }
            let after = try watched.map { try t.backend.floats($0.value) }
            var total = 0.0
            for (b, a) in zip(before, after) {
                for (x, y) in zip(b, a) {
                    let d = Double(y) - Double(x)
                    total += d * d
                }
            }
            return total.squareRoot()
        }
        let clipped = try stepNorm(clip: 0.01)
        #expect(clipped <= 0.01 * 1.001 && clipped > 0.001, "clipped step norm \(clipped)")
        #expect(try stepNorm(clip: 0) > 0.05, "without clipping the step is larger")
    }
}

@Suite struct MultiSourceTrainingTests {
    /// 400 two-source synthetic faces with a fifth held out, and a short run on them.
    static let faces = TwoSourceFaces(count: 400, seed: 2).generate(threads: 2)
    static let split = Splits.holdOut(faces.records, fraction: 0.2, seed: 2)
    static func configuration(_ configure: (inout TrainingConfiguration) -> Void = { _ in }) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = 2
        c.batchSize = 16
        c.augmentation = .none
        configure(&c)
        return c
    }

    /// On two-source data the evaluation reports each source alone, the sources' confusion
    /// matrices add up to the whole, and post-hoc logit adjustment moves predictions toward the
    /// rare classes (it subtracts tau x log prior, which is largest for the common classes).
    @Test func evaluationsReportEachSourceAndPosthocAdjustmentFavoursRareClasses() throws {
        let faces = Self.faces, split = Self.split, c = Self.configuration()
        func scored(_ posthoc: Float, trainTime: Float = 0) throws -> EvaluationReport {
            var config = c
            config.posthocAdjustment = posthoc
            config.logitAdjustment = trainTime
            let trainer = try Trainer(
                configuration: config, backend: BackendChoice.cpu.makeBackend(threads: 2).backend, dataset: faces,
                trainIndices: split.train, validationIndices: split.validation)
            _ = try trainer.run { _ in }
            return try trainer.evaluate(split.validation).0
        }
        let plain = try scored(0), adjusted = try scored(2)
        let sources = try #require(plain.perSource)
        #expect(Set(sources.map(\.source)) == ["synthetic-lab", "synthetic-wild"])
        #expect(sources.map(\.faces).reduce(0, +) == split.validation.count)
        var merged = ConfusionMatrix()
        for s in sources { merged.merge(s.confusion) }
        #expect(merged == plain.confusion)
        // Same weights (same seed), different read-out: the common class loses predictions.
        func predicted(_ r: EvaluationReport, _ e: Emotion) -> Int {
            (0..<8).reduce(0) { $0 + r.confusion.counts[$1][e.rawValue] }
        }
        #expect(
            predicted(plain, .happiness) > 0 && predicted(adjusted, .happiness) < predicted(plain, .happiness),
            "happiness predicted \(predicted(plain, .happiness)) times, \(predicted(adjusted, .happiness)) after adjustment")
        #expect(adjusted.confusion.total == plain.confusion.total)
        // Train-time adjustment: the loss sees logits + log prior, so the raw logits the model
        // learns lean less toward the common class.
        let trained = try scored(0, trainTime: 1)
        #expect(
            predicted(trained, .happiness) < predicted(plain, .happiness),
            "happiness predicted \(predicted(plain, .happiness)) times plain, \(predicted(trained, .happiness)) with train-time adjustment"
        )
        let json = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(json.contains("\"perSource\""))
    }

    /// Deferred re-balancing: plain epochs draw the training faces as they come, the
    /// re-balancing epochs every class equally often, and the decision moves towards the rare
    /// classes: the validation faces get more predictions of the training faces' three rarest
    /// classes than after four plain epochs.
    @Test func rebalancingEpochsDrawEveryClassEquallyOften() throws {
        let faces = TwoSourceFaces(count: 600, seed: 3).generate(threads: 2)
        let split = Splits.holdOut(faces.records, fraction: 0.2, seed: 3)
        let counts = faces.subset(split.train).classCounts
        let rare = counts.indices.filter { counts[$0] > 0 }.sorted { counts[$0] < counts[$1] }.prefix(3)
        func trainer(epochs: Int, rebalance: Int) throws -> Trainer {
            var c = TrainingConfiguration()
            c.epochs = epochs
            c.rebalanceEpochs = rebalance
            c.batchSize = 16
            c.augmentation = .none
            return try Trainer(
                configuration: c, backend: BackendChoice.cpu.makeBackend(threads: 2).backend, dataset: faces,
                trainIndices: split.train, validationIndices: split.validation)
        }
        let rebalanced = try trainer(epochs: 2, rebalance: 2)
        #expect(faces.subset(rebalanced.order(epoch: 1)).classCounts == counts, "a plain epoch draws every face once")
        let drawn = faces.subset(rebalanced.order(epoch: 2)).classCounts
        let share = Double(split.train.count) / Double(counts.filter { $0 > 0 }.count)
        #expect(
            counts.indices.allSatisfy { counts[$0] == 0 ? drawn[$0] == 0 : abs(Double(drawn[$0]) / share - 1) < 0.35 },
            "a re-balancing epoch draws each class about \(Int(share)) times: \(drawn) (the training faces: \(counts))")
        func rarePredictions(_ t: Trainer) throws -> Int {
            _ = try t.run { _ in }
            let report = try t.evaluate(split.validation).0
            return rare.reduce(0) { sum, k in sum + (0..<8).reduce(0) { $0 + report.confusion.counts[$1][k] } }
        }
        let plain = try rarePredictions(try trainer(epochs: 4, rebalance: 0)), moved = try rarePredictions(rebalanced)
        #expect(
            moved > plain,
            "predictions of the rarest classes \(rare.map { Emotion(rawValue: $0)!.name }): plain \(plain), re-balanced \(moved)")
    }
}
