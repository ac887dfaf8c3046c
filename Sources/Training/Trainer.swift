import FacemineData
import FacemineDevice
import FacemineNN
import Foundation

/// One epoch's numbers, as kept in metrics.json's history.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var learningRate: Double
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validation: EvaluationReport?
    public var imagesPerSecond: Double
    public var seconds: Double
    /// MyCNN only: the share of fc1's 128 units that fire for at least one validation face.
    public var liveHiddenUnits: Double?
    /// True when this epoch's weights went to `best.safetensors`: its validation macro-F1 was
    /// the best so far, or the run keeps its last epoch (`keep` last).
    public var newBest: Bool?
    /// The post-hoc adjustment's tau chosen on this epoch's validation faces (`calibratePosthoc`).
    public var posthocAdjustment: Float?
}

/// What the trainer reports while it runs.
public enum TrainingEvent {
    case batch(epoch: Int, batch: Int, of: Int, loss: Double, accuracy: Double, imagesPerSecond: Double)
    case epoch(EpochRecord)
    /// A step's update was left out (`--on-nan skip`).
    case skipped(NonFiniteStep)
    /// Something the user should know, e.g. which initial weights were loaded.
    case note(String)
}

/// A step whose loss or gradients were not finite, with the first parameter (in network order)
/// where it shows: where a blow-up starts.
public struct NonFiniteStep: Error, CustomStringConvertible, Equatable, Sendable {
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var firstParameter: String?

    public var description: String {
        let place = firstParameter.map { " first in \($0)" } ?? ""
        return "step \(step + 1) (epoch \(epoch + 1)): the loss is \(loss) and the gradients are not finite\(place); "
            + "lower --lr, add --warmup-epochs, or pass --on-nan skip to leave such steps out"
    }
}

/// The run was asked to stop (SIGINT, SIGTERM) and saved where it stood.
public struct TrainingInterrupted: Error, CustomStringConvertible, Sendable {
    public var step: Int
    public var description: String { "stopped after step \(step)" }
}

/// The training loop: sampler -> prefetching batcher -> forward, loss, backward, optimizer
/// step on the backend -> validation each epoch. It knows nothing of which backend runs.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let backend: any Backend
    public let model: any Classifier
    let dataset: FaceDataset
    public let trainIndices: [Int]
    public let validationIndices: [Int]
    let loss: CrossEntropyLoss
    public let optimizer: Optimizer
    let schedule: LearningRateSchedule
    /// What validation predicts with: test-time augmentation and post-hoc adjustment.
    public var predictor: Predictor
    /// `--ema`: the moving average of the weights that validation and `best.safetensors` use.
    public let average: WeightAverage?
    private var inputs: [Int: (images: Tensor, labels: Tensor, partners: Tensor, predictions: Tensor)] = [:]

    public init(
        configuration c: TrainingConfiguration, backend: any Backend, dataset: FaceDataset,
        trainIndices: [Int], validationIndices: [Int]
    ) throws {
        guard !trainIndices.isEmpty else {
            let groups = Set(dataset.records.compactMap(\.group)).count
            throw DataError(
                "training split",
                "no faces left: the held-out share took all \(dataset.count)"
                    + (groups > 0 ? " (they form \(groups) group\(groups == 1 ? "" : "s"), each kept whole)" : "")
                    + "; give more faces or a smaller validation share")
        }
        configuration = c
        self.backend = backend
        self.dataset = dataset
        self.trainIndices = trainIndices
        self.validationIndices = validationIndices
        model = try c.model.make(backend, stem: c.stem, dropout: c.dropout, seed: c.seed)
        let trainLabels = trainIndices.map { dataset.records[$0].label }
        let lossWeights =
            c.classWeightedLoss
            ? ClassBalance.inverseFrequencyLossWeights(trainLabels)
            : c.effectiveNumberLoss ? ImbalanceWeights.effectiveNumber(trainLabels) : nil
        let priors = ImbalanceWeights.logPriors(trainLabels)
        state.classLogPriors = priors
        state.sourceClasses = SourceClasses(trainIndices.lazy.map { dataset.records[$0] })
        trainAdjustment =
            c.logitAdjustment > 0 ? try backend.makeTensor([Emotion.count], values: priors.map { c.logitAdjustment * $0 }) : nil
        predictor = Predictor(
            model: model, backend: backend, tta: c.tta, shift: c.ttaShift,
            posthocAdjustment: c.posthocAdjustment, logPriors: priors, sourceClasses: state.sourceClasses)
        average = c.emaDecay > 0 ? try WeightAverage(model: model, decay: c.emaDecay, backend: backend) : nil
        loss = try CrossEntropyLoss(
            backend, classWeights: lossWeights,
            labelSmoothing: c.labelSmoothing, focalGamma: c.focalGamma)
        optimizer = Optimizer(backend, kind: c.optimizer, momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay)
        let stepsPerEpoch = Trainer.stepsPerEpoch(trainIndices.count, c.batchSize)
        schedule = LearningRateSchedule(
            kind: c.schedule, baseRate: c.learningRate, epochs: c.epochs,
            warmupSteps: Int(c.warmupEpochs * Double(stepsPerEpoch)))
        gradientSquares = try backend.makeTensor([model.parameters.count])
    }

    /// tau x log prior, added to the logits before the loss (train-time logit adjustment).
    private let trainAdjustment: Tensor?

    /// Each parameter's gradient's squared norm, for the non-finite check and clipping.
    private let gradientSquares: Tensor

    /// Full batches only when there is more than one batch: batch norm needs more than one face,
    /// and a ragged last batch would weigh its few faces as much as a whole batch.
    static func stepsPerEpoch(_ count: Int, _ batchSize: Int) -> Int { max(1, count / batchSize) }

    public var stepsPerEpoch: Int { Trainer.stepsPerEpoch(trainIndices.count, configuration.batchSize) }

    /// Where training stands; saved with every checkpoint.
    public private(set) var state = TrainingState()

    /// Checked after every step; when it returns true the trainer saves `last.safetensors`
    /// (mid-epoch) and throws `TrainingInterrupted`.
    public var shouldStop: () -> Bool = { false }

    /// Continues from a checkpoint written by `run`: weights, optimizer state and where the
    /// run stood. The run then goes on exactly as it would have without the interruption.
    public func resume(from file: SafeTensors, location: String) throws {
        let (_, saved) = try Checkpoint.describe(file, location: location)
        guard saved.dataFaces == dataset.count else {
            throw DataError(
                location, "was trained on \(saved.dataFaces) faces, but \(dataset.count) are loaded now: pass the same data")
        }
        try Checkpoint.loadWeights(file, into: model, backend: backend, location: location)
        try Checkpoint.loadOptimizer(
            file, into: optimizer, model: model, steps: saved.optimizerSteps, backend: backend, location: location)
        if let average { try Checkpoint.loadExtra(file, into: average.named, backend: backend, location: location) }
        schedule.state = saved.schedule
        state = saved
    }

    /// Trains until `configuration.totalEpochs` epochs are done (the re-balancing ones last),
    /// reporting progress. With a `checkpoints` folder, writes `last.safetensors` after every
    /// epoch and `best.safetensors` whenever validation macro-F1 improves (each atomically).
    /// Returns the whole history.
    public func run(checkpoints: URL? = nil, _ observe: (TrainingEvent) -> Void) throws -> [EpochRecord] {
        let c = configuration
        state.dataFaces = dataset.count
        state.dataSources = dataset.sources.map(\.rawValue).sorted()
        if let path = c.initWeights, state.step == 0 && state.epochsDone == 0 && state.partialEpoch == nil {
            let file = try SafeTensors(contentsOf: URL(fileURLWithPath: path))
            for line in try PretrainedWeights.load(file, into: model, backend: backend, location: path) { observe(.note(line)) }
            average?.restart()
        }
        // Live logs beside the checkpoints: TensorBoard events (history.csv is written per epoch).
        let events = try checkpoints.map { try TensorBoardLog(folder: $0) }
        var step = state.step
        // The re-balancing epochs have a schedule of their own.
        let rebalancing = LearningRateSchedule(kind: .cosine, baseRate: c.learningRate / 10, epochs: c.rebalanceEpochs)
        for epoch in state.epochsDone..<c.totalEpochs {
            let rebalance = epoch >= c.epochs
            if rebalance && state.rebalanceStartStep == nil {
                // Go on from the weights validation scored: the average's, when there is one.
                average?.adopt()
                state.rebalanceStartStep = optimizer.stepCount
                observe(
                    .note(
                        "epochs \(c.epochs + 1)-\(c.totalEpochs) re-balance: every class drawn equally often, "
                            + "the learning rate from \(c.learningRate / 10) to zero"))
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let order = self.order(epoch: epoch)
            let usable = order.count > c.batchSize ? order.count / c.batchSize * c.batchSize : order.count
            // A run stopped inside this epoch continues after the batches it finished.
            let resumed = state.partialEpoch
            state.partialEpoch = nil
            let skip = (resumed?.batchesDone ?? 0) * c.batchSize
            let batcher = PrefetchingBatcher(
                dataset: dataset, order: Array(order[skip..<usable]), batchSize: c.batchSize,
                augmentation: c.augmentation, seed: c.seed, epoch: epoch)
            var lossSum = resumed?.lossSum ?? 0, correct = resumed?.correct ?? 0.0, seen = resumed?.seen ?? 0
            var batchesDone = resumed?.batchesDone ?? 0
            let totalBatches = batchesDone + batcher.count
            var rate: Float = c.learningRate
            for batch in batcher {
                rate =
                    rebalance
                    ? rebalancing.rate(
                        step: (epoch - c.epochs) * stepsPerEpoch + batchesDone, epoch: epoch - c.epochs,
                        stepsPerEpoch: stepsPerEpoch)
                    : schedule.rate(step: step, epoch: epoch, stepsPerEpoch: stepsPerEpoch)
                do {
                    let (batchLoss, batchCorrect) = try trainStep(batch, step: step, epoch: epoch, learningRate: rate)
                    if (step + 1) % Trainer.lossLogInterval == 0 {
                        try events?.scalars(
                            [("step/train_loss", batchLoss), ("step/learning_rate", Double(rate))], step: step + 1)
                    }
                    lossSum += batchLoss * Double(batch.count)
                    correct += batchCorrect
                    seen += batch.count
                } catch let bad as NonFiniteStep where c.onNonFinite == .skip {
                    state.skippedSteps += 1
                    observe(.skipped(bad))
                }
                step += 1
                batchesDone += 1
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                observe(
                    .batch(
                        epoch: epoch, batch: batchesDone, of: totalBatches, loss: lossSum / Double(max(seen, 1)),
                        accuracy: Double(correct) / Double(max(seen, 1)), imagesPerSecond: Double(seen) / elapsed))
                if shouldStop() && batchesDone < totalBatches {
                    batcher.stop()
                    state.partialEpoch = PartialEpoch(batchesDone: batchesDone, lossSum: lossSum, correct: correct, seen: seen)
                    try saveLast(epochsDone: epoch, step: step, into: checkpoints)
                    throw TrainingInterrupted(step: step)
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            var record = EpochRecord(
                epoch: epoch + 1, learningRate: Double(rate), trainLoss: lossSum / Double(max(seen, 1)),
                trainAccuracy: Double(correct) / Double(max(seen, 1)), validation: nil,
                imagesPerSecond: Double(seen) / seconds, seconds: seconds)
            // With --ema, the averaged weights are what is validated and kept as the best.
            try withValidatedWeights {
                if !validationIndices.isEmpty {
                    let (report, live) = try evaluate(validationIndices, calibrating: c.calibratePosthoc)
                    record.validation = report
                    if c.calibratePosthoc { record.posthocAdjustment = predictor.posthocAdjustment }
                    record.liveHiddenUnits = live
                    schedule.observe(validationScore: Float(report.macroF1))
                }
            }
            let improved = record.validation.map { $0.macroF1 > (state.bestMacroF1 ?? -1) } ?? false
            if improved { state.bestMacroF1 = record.validation?.macroF1 }
            let kept = improved || c.keep == .last
            record.newBest = kept
            state.history.append(record)
            try saveLast(epochsDone: epoch + 1, step: step, into: checkpoints)
            if let checkpoints { try HistoryLog.write(state.history, into: checkpoints) }
            try events?.scalars(Trainer.epochScalars(record), step: record.epoch)
            if kept, let checkpoints {
                try withValidatedWeights {
                    try Checkpoint.save(
                        model: model, optimizer: nil, configuration: c, state: state, backend: backend,
                        to: checkpoints.appendingPathComponent("best.safetensors"))
                }
            }
            observe(.epoch(record))
            if shouldStop() && epoch + 1 < c.totalEpochs { throw TrainingInterrupted(step: step) }
            if c.earlyStoppingPatience > 0, let best = keptEpoch, epoch + 1 - best >= c.earlyStoppingPatience { break }
        }
        return state.history
    }

    /// The training faces (dataset indices) epoch `epoch` (from 0) draws, in order: the
    /// configured sampler's, or in a re-balancing epoch every class equally often.
    public func order(epoch: Int) -> [Int] {
        let sampler = epoch >= configuration.epochs ? samplers.balanced : samplers.configured
        return sampler.indices(epoch: epoch).map { trainIndices[$0] }
    }

    /// The configured sampler over the training faces, and the class-balanced one (the
    /// re-balancing epochs'; `--use-weighted-sampler`'s too); built once, drawn per epoch.
    private lazy var samplers: (configured: any Sampler, balanced: any Sampler) = {
        let c = configuration
        let labels = trainIndices.map { dataset.records[$0].label }
        let balanced = WeightedRandomSampler(balancing: labels, seed: c.seed)
        let configured: any Sampler
        if c.cellBalancedSampler {
            configured = WeightedRandomSampler(
                weights: ImbalanceWeights.cellBalanced(
                    labels, sources: trainIndices.map { dataset.records[$0].source }, floor: c.cellFloor, cap: c.cellCap),
                seed: c.seed)
        } else if c.weightedSampler && c.samplerAlpha != 1 {
            configured =
                c.samplerAlpha == 0
                ? ShuffledSampler(count: trainIndices.count, seed: c.seed)
                : WeightedRandomSampler(weights: ImbalanceWeights.tempered(labels, alpha: c.samplerAlpha), seed: c.seed)
        } else if c.weightedSampler {
            configured = balanced
        } else {
            configured = ShuffledSampler(count: trainIndices.count, seed: c.seed)
        }
        return (configured, balanced)
    }()

    /// Training steps between two `step/train_loss` points in the TensorBoard log.
    public static let lossLogInterval = 20

    /// An epoch's numbers as TensorBoard scalars, at the epoch's number (from 1).
    static func epochScalars(_ r: EpochRecord) -> [(tag: String, value: Double)] {
        var values: [(tag: String, value: Double)] = [
            ("epoch/train_loss", r.trainLoss), ("epoch/train_accuracy", r.trainAccuracy),
            ("epoch/learning_rate", r.learningRate), ("epoch/images_per_second", r.imagesPerSecond),
        ]
        if let v = r.validation {
            values += [
                ("epoch/val_loss", v.loss), ("epoch/val_accuracy", v.accuracy), ("epoch/val_macro_f1", v.macroF1),
                ("epoch/val_weighted_f1", v.weightedF1), ("epoch/val_worst_recall", v.worstRecall),
            ]
        }
        return values
    }

    /// Runs `body` with the weights validation scores: the moving average's with --ema, else the model's own.
    public func withValidatedWeights(_ body: () throws -> Void) throws {
        if let average { try average.withAveragedWeights(body) } else { try body() }
    }

    /// The epoch (from 1) whose weights `best.safetensors` holds: with `keep` best, the best
    /// validation macro-F1 so far (first one on ties); with `keep` last, the latest epoch.
    public var keptEpoch: Int? {
        if configuration.keep == .last { return state.history.last?.epoch }
        var best: (epoch: Int, score: Double)?
        for r in state.history {
            if let score = r.validation?.macroF1, score > (best?.score ?? -1) { best = (r.epoch, score) }
        }
        return best?.epoch
    }

    /// Records where the run stands and, given a folder, writes it to `last.safetensors`.
    private func saveLast(epochsDone: Int, step: Int, into folder: URL?) throws {
        state.epochsDone = epochsDone
        state.step = step
        state.optimizerSteps = optimizer.stepCount
        state.schedule = schedule.state
        guard let folder else { return }
        try Checkpoint.save(
            model: model, optimizer: optimizer, configuration: configuration, state: state, backend: backend,
            extra: average?.named ?? [], to: folder.appendingPathComponent("last.safetensors"))
    }

    /// One optimisation step; returns the batch's mean loss and correct predictions (with mixup
    /// or CutMix, a prediction counts as much as its class's share of the mixed face). A NaN or
    /// infinite loss or gradient throws `NonFiniteStep` before the update touches the weights,
    /// so the weights (and every checkpoint) stay as they were.
    func trainStep(_ batch: Batch, step: Int, epoch: Int, learningRate: Float) throws -> (Double, Double) {
        var batch = batch
        let mix = configuration.mixing.mix(&batch.images, count: batch.count, seed: configuration.seed, step: step)
        let t = try tensors(for: batch)
        let context = StepContext(training: true, seed: configuration.seed, step: UInt64(step))
        let logits = try model.forward(t.images, context)
        // Logit adjustment: the loss sees logits + tau log prior; the gradient is the same.
        if let trainAdjustment { backend.addBias(logits, bias: trainAdjustment) }
        let partnerLabels = mix.map { m in m.partners.map { batch.labels[$0] } }
        let (lossValue, gradient): (Tensor, Tensor)
        if let mix, let partnerLabels {
            partnerLabels.withUnsafeBufferPointer { backend.upload($0, to: t.partners) }
            (lossValue, gradient) = try loss.compute(
                logits: logits, labels: t.labels, partnerLabels: t.partners,
                weight: Float(mix.weight))
        } else {
            (lossValue, gradient) = try loss.compute(logits: logits, labels: t.labels)
        }
        backend.argmaxRows(logits, into: t.predictions)
        try model.backward(gradient)
        // Each gradient's sum of squares is NaN or infinite exactly when some element is, or the
        // norm overflows, which is as bad; the same numbers give the global norm for clipping.
        let parameters = model.parameters
        backend.squaredNorms(parameters.map(\.gradient), into: gradientSquares)
        // The step's synchronisation: the loss, the squared norms, then the predictions.
        let value = Double(try backend.floats(lossValue)[0])
        var firstBad: String?
        var squaredNorm = 0.0
        for (p, s) in zip(parameters, try backend.floats(gradientSquares).map(Double.init)) {
            if !s.isFinite && firstBad == nil { firstBad = p.name }
            squaredNorm += s
        }
        if !value.isFinite || firstBad != nil {
            throw NonFiniteStep(step: step, epoch: epoch, loss: value, firstParameter: firstBad)
        }
        let maxNorm = Double(configuration.clipGradientNorm)
        let norm = squaredNorm.squareRoot()
        let scale = maxNorm > 0 && norm > maxNorm ? Float(maxNorm / (norm + 1e-6)) : 1
        try optimizer.step(parameters, learningRate: learningRate, gradientScale: scale)
        average?.update(step: optimizer.stepCount - (state.rebalanceStartStep ?? 0))
        let predictions = try backend.int32s(t.predictions)
        let hits = Double(zip(predictions, batch.labels).filter { $0 == $1 }.count)
        guard let mix, let partnerLabels else { return (value, hits) }
        let partnerHits = Double(zip(predictions, partnerLabels).filter { $0 == $1 }.count)
        return (value, mix.weight * hits + (1 - mix.weight) * partnerHits)
    }

    /// Scores the model in evaluation mode on `indices` as `predictor` predicts (test-time
    /// augmentation, post-hoc adjustment, each face over its source's classes); the loss is the
    /// mean -log of the true class's predicted probability. For MyCNN also the share of fc1
    /// units that fire. `calibrating` first chooses the post-hoc adjustment's tau on these faces
    /// (`PosthocCalibration`) and keeps it in the predictor (the epoch's record carries it into
    /// the checkpoints).
    public func evaluate(_ indices: [Int], calibrating: Bool = false) throws -> (EvaluationReport, Double?) {
        var fired: [Bool]? = (model as? MyCNN).map { _ in [Bool](repeating: false, count: 128) }
        let batcher = PrefetchingBatcher(
            dataset: dataset, order: indices, batchSize: configuration.batchSize,
            seed: configuration.seed, epoch: 0)
        let classes = Emotion.count
        var raw: [Double] = [], labels: [Int] = [], sources: [DataSource] = []
        raw.reserveCapacity(indices.count * classes)
        for batch in batcher {
            raw += try predictor.viewAveraged(batch.images, count: batch.count)
            labels += batch.labels.map { Int($0) }
            sources += batch.indices.map { dataset.records[$0].source }
            if let hidden = (model as? MyCNN)?.hiddenActivations, fired != nil {
                let values = try backend.floats(hidden)
                for (i, v) in values.enumerated() where v > 0 { fired![i % 128] = true }
            }
        }
        if calibrating {
            let tau = PosthocCalibration.choose(probabilities: raw, labels: labels) { [predictor] p, tau in
                predictor.scored(p, tau: tau, sources: sources)
            }
            predictor.posthocAdjustment = tau
        }
        let p = predictor.scored(raw, tau: predictor.posthocAdjustment, sources: sources)
        var confusion = ConfusionMatrix()
        var bySource: [DataSource: ConfusionMatrix] = [:]
        var lossSum = 0.0
        for (k, truth) in labels.enumerated() {
            let row = p[(k * classes)..<((k + 1) * classes)]
            let prediction = row.indices.max { row[$0] < row[$1] }! - k * classes
            lossSum -= log(max(row[row.startIndex + truth], 1e-12))
            confusion.add(truth: truth, prediction: prediction)
            bySource[sources[k], default: ConfusionMatrix()].add(truth: truth, prediction: prediction)
        }
        let live = fired.map { Double($0.filter { $0 }.count) / 128 }
        let perSource =
            bySource.count > 1
            ? bySource.keys.sorted { $0.rawValue < $1.rawValue }.map {
                EvaluationReport.SourceScores(source: $0.rawValue, confusion: bySource[$0]!)
            }
            : nil
        return (EvaluationReport(loss: lossSum / Double(max(indices.count, 1)), confusion: confusion, perSource: perSource), live)
    }

    /// Device tensors for a batch of this size, reused across steps.
    private func tensors(for batch: Batch) throws -> (images: Tensor, labels: Tensor, partners: Tensor, predictions: Tensor) {
        let n = batch.count
        if inputs[n] == nil {
            inputs[n] = (
                try backend.makeTensor([n, 1, FaceDataset.side, FaceDataset.side]),
                try backend.makeTensor([n], dtype: .int32), try backend.makeTensor([n], dtype: .int32),
                try backend.makeTensor([n], dtype: .int32)
            )
        }
        let t = inputs[n]!
        batch.images.withUnsafeBufferPointer { backend.upload($0, to: t.images) }
        batch.labels.withUnsafeBufferPointer { backend.upload($0, to: t.labels) }
        return t
    }
}
