import ArgumentParser
import FacemineBackends
import FacemineData
import FacemineNN
import FacemineTraining
import Foundation

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify face images (PNG or JPEG, any size, colour or gray; files or folders of them) with a checkpoint.")

    @Argument(help: "A checkpoint written by facemine train (or a unit of cv).") var checkpoint: String
    @Argument(help: "Images to classify, or folders of them (searched recursively for .png, .jpg, .jpeg).") var images: [String]
    @Option(parsing: .unconditional, help: "How many classes to show per image.") var top = 3
    @Option(help: ArgumentHelp("\(BackendChoice.names).")) var backend: BackendChoice = .auto
    @Option(help: "Test-time augmentation: none, flip or tencrop (default: the checkpoint's).") var tta: TestTimeAugmentation?
    @Flag(help: "Print JSON: one entry per image, with its classes or why it could not be read.") var json = false

    /// One image's result: its top classes, or the reason it could not be classified.
    struct Prediction: Codable {
        var image: String
        var classes: [String]?
        var probabilities: [Double]?
        var error: String?
    }

    static let extensions: Set<String> = ["png", "jpg", "jpeg"]
    /// Faces classified per forward pass: bounds memory for a folder of any size.
    static let chunk = 256

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image or folder") }
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

        var predictions: [Prediction] = []
        var pending: [(index: Int, face: [UInt8])] = []
        func classifyPending() throws {
            guard !pending.isEmpty else { return }
            let input = pending.flatMap { $0.face.map { (Float($0) / 255 - PrefetchingBatcher.mean) / PrefetchingBatcher.std } }
            let p = try predictor.probabilities(input, count: pending.count)
            for (k, item) in pending.enumerated() {
                let row = Array(p[(k * Emotion.count)..<((k + 1) * Emotion.count)])
                let ranked = (0..<Emotion.count).sorted { row[$0] > row[$1] }.prefix(top)
                predictions[item.index].classes = ranked.map { Emotion(rawValue: $0)!.name }
                predictions[item.index].probabilities = ranked.map { row[$0] }
            }
            pending.removeAll()
        }
        for path in try expandedPaths() {
            predictions.append(Prediction(image: path))
            do {
                guard FileManager.default.fileExists(atPath: path) else { throw DataError(path, "no such file") }
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
                pending.append((predictions.count - 1, try GrayImage(decoding: bytes).face()))
            } catch {
                let reason = error is DataError ? "\(error)" : systemReason(error)
                predictions[predictions.count - 1].error = "cannot read the image (\(reason))"
                note("\(path): cannot read the image (\(reason))")
            }
            if pending.count == Self.chunk { try classifyPending() }
        }
        try classifyPending()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(predictions), as: UTF8.self))
        } else {
            for p in predictions {
                guard let classes = p.classes, let probabilities = p.probabilities else { continue }
                print("\(p.image): " + zip(classes, probabilities).map { "\($0) " + String(format: "%.3f", $1) }.joined(separator: ", "))
            }
        }
        if predictions.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }

    /// The images named, with each folder replaced by the images inside it (sorted, recursive).
    /// A folder without images, or a path that does not exist, is an error naming it.
    func expandedPaths() throws -> [String] {
        var paths: [String] = []
        for path in images {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                paths.append(path)  // reported as unreadable with the others
                continue
            }
            guard isFolder.boolValue else { paths.append(path); continue }
            let found = (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? [])
                .filter { Self.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            guard !found.isEmpty else { throw CommandFailure("\(path): no .png, .jpg or .jpeg images in this folder") }
            paths += found.map { (path as NSString).appendingPathComponent($0) }
        }
        return paths
    }
}

extension PredictCommand.Prediction {
    init(image: String) { self.init(image: image, classes: nil, probabilities: nil, error: nil) }
}
