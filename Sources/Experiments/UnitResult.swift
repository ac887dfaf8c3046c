import FacemineTraining

/// One trained and scored unit: a trial's configuration trained on every fold but one (with an
/// inner validation split for early stopping) and scored on the fold it never saw.
public struct UnitResult: Codable, Equatable, Sendable {
    public var trial: Int
    public var fold: Int
    public var configuration: TrainingConfiguration
    /// Per-epoch training numbers and inner-validation scores.
    public var history: [EpochRecord]
    /// The epoch whose weights were scored (best inner-validation macro-F1).
    public var bestEpoch: Int
    /// Scores on the held-out fold.
    public var test: EvaluationReport
    public var trainFaces: Int
    public var validationFaces: Int
    public var testFaces: Int
    public var seconds: Double
    public var backend: String
    public var device: String
}
