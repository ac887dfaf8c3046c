import ArgumentParser
import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineTraining
import Foundation

struct EvaluateCommand: ParsableCommand {
    /// How the data loaded now differs from the data the checkpoint was trained on: then the
    /// validation split is not the run's (it may hold faces the model trained on).
    static func dataWarnings(_ saved: TrainingState, _ faces: FaceDataset, split: Split) -> [String] {
        var warnings: [String] = []
        let sources = faces.sources.map(\.rawValue).sorted()
        if let trained = saved.dataSources, trained != sources {
            warnings.append(
                "the checkpoint was trained on \(trained.joined(separator: " + ")), this data is \(sources.joined(separator: " + "))"
            )
        }
        if saved.dataFaces > 0 && saved.dataFaces != faces.count {
            warnings.append(
                "the checkpoint was trained on data of \(saved.dataFaces) faces, \(faces.count) are loaded"
                    + (split == .validation ? ": this validation split is not the run's and may hold faces it trained on" : ""))
        }
        return warnings
    }

    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a checkpoint on a split of the data: accuracy, F1 scores, per-class table, confusion matrix.")

    enum Split: String, ExpressibleByArgument, CaseIterable {
        /// The faces the run held out for validation (same seed, same rule).
        case validation
        /// FER-2013's PrivateTest (and the matching share of data without an original split).
        case test
        case all
    }

    @Argument(help: "A checkpoint written by facemine train (runs/NAME/best.safetensors).") var checkpoint: String
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "validation, test or all.") var split: Split = .validation
    @Option(help: ArgumentHelp("\(BackendChoice.names).")) var backend: BackendChoice = .auto
    @Option(parsing: .unconditional, help: "CPU threads.") var threads: Int?
    @Option(help: "Test-time augmentation: none, flip or tencrop (default: the checkpoint's).") var tta: TestTimeAugmentation?
    @Option(parsing: .unconditional, help: "TenCrop's shift in pixels (default: the checkpoint's).") var ttaShift: Int?
    @Flag(help: "Print the scores as JSON.") var json = false

    func validate() throws {
        try backend.checkOptions(device: nil, threads: threads)
        if let ttaShift { guard (0...16).contains(ttaShift) else { throw ValidationError("--tta-shift must be in 0...16") } }
    }

    func run() throws {
        let file = try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint))
        let (stored, saved) = try Checkpoint.describe(file, location: checkpoint)
        var config = stored
        if let ttaShift { config.ttaShift = ttaShift }
        let faces = try dataOptions.load()
        let indices: [Int]
        switch split {
        case .all: indices = Array(0..<faces.count)
        case .test: indices = Splits.official(faces.records, seed: config.seed).test
        case .validation:
            indices =
                config.officialSplit
                ? Splits.official(faces.records, seed: config.seed).validation
                : Splits.holdOut(faces.records, fraction: config.validationFraction, seed: config.seed).validation
        }
        guard !indices.isEmpty else { throw CommandFailure("the \(split.rawValue) split of this data is empty") }
        for warning in Self.dataWarnings(saved, faces, split: split) { note("warning: \(warning)") }
        let (device, _) = try backend.makeBackend(threads: threads)
        let trainer = try Trainer(
            configuration: config, backend: device, dataset: faces,
            trainIndices: Array(0..<faces.count), validationIndices: [])
        try Checkpoint.loadWeights(file, into: trainer.model, backend: device, location: checkpoint)
        // The run's own class priors for post-hoc adjustment (checkpoints before they were kept:
        // the priors of the faces loaded now).
        trainer.predictor = Predictor(
            model: trainer.model, backend: device, configuration: config,
            state: saved.classLogPriors == nil ? trainer.state : saved, tta: tta)
        let (report, _) = try trainer.evaluate(indices)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            let views = trainer.predictor.tta == .none ? "" : ", test-time augmentation \(trainer.predictor.tta.rawValue)"
            print("\(trainer.model.name) on the \(split.rawValue) split (\(indices.count) faces\(views))")
            if let left = trainer.predictor.sourceClasses?.omissions(among: faces.sources) {
                print("each face scored over its source's classes in the training faces: \(left)")
            }
            print(ReportTables.scores(report).replacingOccurrences(of: "validation:", with: "\(split.rawValue):"))
            print(ReportTables.perClass(report))
            print(ReportTables.confusion(report.confusion))
        }
    }
}
