import ArgumentParser
import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineTraining
import Foundation

struct EvaluateCommand: ParsableCommand {
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
    @Option(help: "auto, cpu or opencl.") var backend: BackendChoice = .auto
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
            indices = config.officialSplit
                ? Splits.official(faces.records, seed: config.seed).validation
                : Splits.holdOut(faces.records, fraction: config.validationFraction, seed: config.seed).validation
        }
        guard !indices.isEmpty else { throw CommandFailure("the \(split.rawValue) split of this data is empty") }
        let (device, _) = try backend.makeBackend(threads: threads)
        let trainer = try Trainer(configuration: config, backend: device, dataset: faces,
                                  trainIndices: Array(0..<faces.count), validationIndices: [])
        try Checkpoint.loadWeights(file, into: trainer.model, backend: device, location: checkpoint)
        // The run's own class priors for post-hoc adjustment (checkpoints before they were kept:
        // the priors of the faces loaded now).
        trainer.predictor = Predictor(model: trainer.model, backend: device, configuration: config,
                                      state: saved.classLogPriors == nil ? trainer.state : saved, tta: tta)
        let (report, _) = try trainer.evaluate(indices)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            let views = trainer.predictor.tta == .none ? "" : ", test-time augmentation \(trainer.predictor.tta.rawValue)"
            print("\(trainer.model.name) on the \(split.rawValue) split (\(indices.count) faces\(views))")
            print(ReportTables.scores(report).replacingOccurrences(of: "validation:", with: "\(split.rawValue):"))
            print(ReportTables.perClass(report))
            print(ReportTables.confusion(report.confusion))
        }
    }
}

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify face images (PNG or JPEG, any size, colour or gray) with a checkpoint.")

    @Argument(help: "A checkpoint written by facemine train.") var checkpoint: String
    @Argument(help: "Images to classify.") var images: [String]
    @Option(parsing: .unconditional, help: "How many classes to show per image.") var top = 3
    @Option(help: "auto, cpu or opencl.") var backend: BackendChoice = .auto
    @Option(help: "Test-time augmentation: none, flip or tencrop (default: the checkpoint's).") var tta: TestTimeAugmentation?
    @Flag(help: "Print JSON.") var json = false

    struct Prediction: Codable {
        var image: String
        var classes: [String]
        var probabilities: [Double]
    }

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image") }
        guard (1...Emotion.count).contains(top) else { throw ValidationError("--top must be 1...\(Emotion.count)") }
    }

    func run() throws {
        let file = try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint))
        let (config, saved) = try Checkpoint.describe(file, location: checkpoint)
        guard config.posthocAdjustment == 0 || saved.classLogPriors != nil else {
            throw CommandFailure("\(checkpoint) was trained with --posthoc-adjustment but keeps no class priors (an older checkpoint); "
                                 + "facemine evaluate applies it with the data, predict cannot")
        }
        let (device, _) = try backend.makeBackend()
        let model = try config.model.make(device, stem: config.stem, dropout: config.dropout, seed: config.seed)
        try Checkpoint.loadWeights(file, into: model, backend: device, location: checkpoint)
        let predictor = Predictor(model: model, backend: device, configuration: config, state: saved, tta: tta)

        var faces: [(String, [UInt8])] = []
        var failures = 0
        for path in images {
            do {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
                faces.append((path, try GrayImage(decoding: bytes).face()))
            } catch {
                note("\(path): cannot read the image (\(error.localizedDescription))")
                failures += 1
            }
        }
        var predictions: [Prediction] = []
        if !faces.isEmpty {
            let input = faces.flatMap { $0.1.map { (Float($0) / 255 - PrefetchingBatcher.mean) / PrefetchingBatcher.std } }
            let p = try predictor.probabilities(input, count: faces.count)
            for (i, (path, _)) in faces.enumerated() {
                let row = Array(p[(i * Emotion.count)..<((i + 1) * Emotion.count)])
                let ranked = (0..<Emotion.count).sorted { row[$0] > row[$1] }.prefix(self.top)
                predictions.append(Prediction(image: path, classes: ranked.map { Emotion(rawValue: $0)!.name },
                                              probabilities: ranked.map { row[$0] }))
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(predictions), as: UTF8.self))
        } else {
            for p in predictions {
                print("\(p.image): " + zip(p.classes, p.probabilities).map { "\($0) " + String(format: "%.3f", $1) }.joined(separator: ", "))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
