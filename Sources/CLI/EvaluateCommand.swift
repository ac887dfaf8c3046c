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
    @Option(help: "CPU threads.") var threads: Int?
    @Flag(help: "Print the scores as JSON.") var json = false

    func run() throws {
        let file = try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint))
        let (config, _) = try Checkpoint.describe(file, location: checkpoint)
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
        let (report, _) = try trainer.evaluate(indices)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("\(trainer.model.name) on the \(split.rawValue) split (\(indices.count) faces)")
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
    @Option(help: "How many classes to show per image.") var top = 3
    @Option(help: "auto, cpu or opencl.") var backend: BackendChoice = .auto
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
        let (config, _) = try Checkpoint.describe(file, location: checkpoint)
        let (device, _) = try backend.makeBackend()
        let model = try config.model.make(device, stem: config.stem, dropout: config.dropout, seed: config.seed)
        try Checkpoint.loadWeights(file, into: model, backend: device, location: checkpoint)

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
            let logits = try device.floats(model.forward(try device.makeTensor([faces.count, 1, 48, 48], values: input),
                                                         StepContext(training: false)))
            for (i, (path, _)) in faces.enumerated() {
                let row = logits[(i * Emotion.count)..<((i + 1) * Emotion.count)].map(Double.init)
                let top = row.max()!
                let exps = row.map { exp($0 - top) }, total = exps.reduce(0, +)
                let ranked = (0..<Emotion.count).sorted { exps[$0] > exps[$1] }.prefix(self.top)
                predictions.append(Prediction(image: path, classes: ranked.map { Emotion(rawValue: $0)!.name },
                                              probabilities: ranked.map { exps[$0] / total }))
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
