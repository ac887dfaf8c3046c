import FacemineData
import Foundation

/// Everything `runs/<name>/metrics.json` holds: the full configuration, where it ran, the data,
/// the per-epoch history and the final validation scores.
public struct RunSummary: Codable, Sendable {
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

    public var facemineVersion = "0.1.0"
    public var model: String
    public var parameters: Int
    public var configuration: TrainingConfiguration
    public var backend: String
    public var device: String
    public var threads: Int?
    public var data: DataSummary
    public var history: [EpochRecord]
    public var final: EvaluationReport?
    public var wallSeconds: Double
    public var trainImagesPerSecond: Double

    public init(model: String, parameters: Int, configuration: TrainingConfiguration, backend: String, device: String,
                threads: Int?, data: DataSummary, history: [EpochRecord], final: EvaluationReport?,
                wallSeconds: Double, trainImagesPerSecond: Double) {
        self.model = model
        self.parameters = parameters
        self.configuration = configuration
        self.backend = backend
        self.device = device
        self.threads = threads
        self.data = data
        self.history = history
        self.final = final
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
        let data = try encoder.encode(value)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw DataError(url.path, "cannot write the file (\(systemReason(error))); the previous version is untouched")
        }
    }
}
