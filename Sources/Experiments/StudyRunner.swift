import Dispatch
import FacemineData
import FacemineDevice
import FacemineTraining
import Foundation

/// Runs units of a study. Each unit trains its trial's configuration on the faces outside its
/// fold, stops early on an inner validation split carved from those faces (so the fold it is
/// scored on never chose anything), reloads the best epoch's weights and scores them on the
/// fold. With `holdOut` there is one fold: the configuration's own validation split, which then
/// both stops training and scores it (the fast, optimistic mode of a search).
public struct StudyRunner {
    public let plan: StudyPlan
    public let folder: StudyFolder
    public let dataset: FaceDataset
    public let makeBackend: () throws -> any Backend
    /// Checked between steps: a stop request (Ctrl-C) ends the running unit without a result.
    public var shouldStop: () -> Bool = { false }

    public init(plan: StudyPlan, folder: StudyFolder, dataset: FaceDataset, makeBackend: @escaping () throws -> any Backend) {
        self.plan = plan
        self.folder = folder
        self.dataset = dataset
        self.makeBackend = makeBackend
    }

    /// (train, inner validation, test) face indices of a unit.
    public func split(_ unit: StudyPlan.Unit) -> (train: [Int], validation: [Int], test: [Int]) {
        let c = plan.trials[unit.trial].configuration
        if plan.holdOut {
            let fold = Splits.holdOut(dataset.records, fraction: c.validationFraction, seed: plan.seed)
            return (fold.train, fold.validation, fold.validation)
        }
        let fold = Splits.kFold(dataset.records, folds: plan.folds, seed: plan.seed)[unit.fold]
        let pool = fold.train
        let inner = Splits.holdOut(pool.map { dataset.records[$0] }, fraction: c.validationFraction, seed: plan.seed &+ 1)
        return (inner.train.map { pool[$0] }, inner.validation.map { pool[$0] }, fold.validation)
    }

    /// Trains and scores `unit`, writes its result file, and returns it. A unit whose result
    /// file exists is not run again (the stored result is returned).
    @discardableResult
    public func run(_ unit: StudyPlan.Unit, observe: (TrainingEvent) -> Void = { _ in }) throws -> UnitResult {
        if let done = try folder.result(unit) { return done }
        guard dataset.count == plan.faces else {
            throw DataError(
                folder.url.path,
                "this study was planned on \(plan.faces) faces (\(plan.data)), "
                    + "but \(dataset.count) are loaded: pass the same data options")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let (train, validation, test) = split(unit)
        var configuration = plan.trials[unit.trial].configuration
        // On one fixed split, the "folds" are repeats with their own training seeds.
        if plan.holdOut { configuration.seed &+= UInt64(unit.fold) }
        let backend = try makeBackend()
        let trainer = try Trainer(
            configuration: configuration, backend: backend, dataset: dataset,
            trainIndices: train, validationIndices: validation)
        trainer.shouldStop = shouldStop
        let scratch = folder.scratchURL(unit)
        try? FileManager.default.removeItem(at: scratch)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let history = try trainer.run(checkpoints: scratch, observe)
        let bestFile = scratch.appendingPathComponent("best.safetensors")
        // Scored before the best weights replace them, as validation scored them (averaged with --ema).
        var lastEpochTest: EvaluationReport?
        if let best = trainer.keptEpoch, best != history.count {
            try trainer.withValidatedWeights { lastEpochTest = try trainer.evaluate(test).0 }
        }
        if FileManager.default.fileExists(atPath: bestFile.path) {
            let file = try SafeTensors(contentsOf: bestFile)
            try Checkpoint.loadWeights(file, into: trainer.model, backend: backend, location: bestFile.path)
            // The tau calibrated with those weights, not the last epoch's.
            let (_, best) = try Checkpoint.describe(file, location: bestFile.path)
            trainer.predictor.posthocAdjustment = best.posthocAdjustment ?? configuration.posthocAdjustment
        }
        let (report, _) = try trainer.evaluate(test)
        if FileManager.default.fileExists(atPath: bestFile.path) {
            try? FileManager.default.removeItem(at: folder.checkpointURL(unit))
            try FileManager.default.moveItem(at: bestFile, to: folder.checkpointURL(unit))
        }
        let result = UnitResult(
            trial: unit.trial, fold: unit.fold, configuration: configuration, history: history,
            bestEpoch: trainer.keptEpoch ?? history.count, test: report, lastEpochTest: lastEpochTest,
            trainFaces: train.count, validationFaces: validation.count, testFaces: test.count,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
            backend: backend.kind.rawValue, device: backend.deviceDescription)
        try RunFiles.writeJSON(result, to: folder.unitURL(unit))
        return result
    }
}
