import FacemineData
import Foundation

/// Everything `runs/<name>/metrics.json` holds: the full configuration, where it ran, the data,
/// the per-epoch history, and the validation scores of the best epoch (the weights in
/// `best.safetensors`, which `evaluate` scores) and of the last.
public struct RunSummary: Codable, Sendable {
    /// facemine's version, as `facemine --version` prints it.
    public static let version = "0.2.0"
    /// An epoch's validation scores, with its number (from 1).
    public struct EpochScores: Codable, Equatable, Sendable {
        public var epoch: Int
        public var validation: EvaluationReport
    }

    public struct DataSummary: Codable, Sendable {
        public var description: String
        public var faces: Int
        public var classCounts: [Int]
        public var trainFaces: Int
        public var validationFaces: Int

        public init(description: String, faces: Int, classCounts: [Int], trainFaces: Int, validationFaces: Int) {
            self.description = description
            self.faces = faces
            self.classCounts = classCounts
            self.trainFaces = trainFaces
            self.validationFaces = validationFaces
        }
    }

    public var facemineVersion = RunSummary.version
    public var model: String
    public var parameters: Int
    public var configuration: TrainingConfiguration
    public var backend: String
    public var device: String
    public var threads: Int?
    public var data: DataSummary
    public var history: [EpochRecord]
    /// The epoch `best.safetensors` holds: the best validation macro-F1's, or with `keep` last the last.
    public var best: EpochScores?
    /// The last epoch trained: what `last.safetensors` holds.
    public var last: EpochScores?
    public var wallSeconds: Double
    public var trainImagesPerSecond: Double

    public init(
        model: String, parameters: Int, configuration: TrainingConfiguration, backend: String, device: String,
        threads: Int?, data: DataSummary, history: [EpochRecord],
        wallSeconds: Double, trainImagesPerSecond: Double
    ) {
        self.model = model
        self.parameters = parameters
        self.configuration = configuration
        self.backend = backend
        self.device = device
        self.threads = threads
        self.data = data
        self.history = history
        last = history.last.flatMap { r in r.validation.map { EpochScores(epoch: r.epoch, validation: $0) } }
        // The first epoch with the highest macro-F1, or the last one, as the trainer keeps it.
        var best: EpochScores?
        for r in history {
            if let v = r.validation, v.macroF1 > (best?.validation.macroF1 ?? -1) {
                best = EpochScores(epoch: r.epoch, validation: v)
            }
        }
        self.best = configuration.keep == .last ? last : best
        self.wallSeconds = wallSeconds
        self.trainImagesPerSecond = trainImagesPerSecond
    }
}

public enum RunFiles {
    /// Writes JSON through a temporary file and a rename, so a reader (or a crash) never sees
    /// half a file.
    public static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(try encoder.encode(value), to: url)
    }

    /// Writes bytes through a temporary file and a rename.
    public static func write(_ data: Data, to url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw DataError(url.path, "cannot write the file (\(systemReason(error))); the previous version is untouched")
        }
    }
}
