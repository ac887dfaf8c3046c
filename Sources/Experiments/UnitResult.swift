import FacemineTraining

/// One trained and scored unit: a trial's configuration trained on every fold but one (with an
/// inner validation split for early stopping) and scored on the fold it never saw.
public struct UnitResult: Codable, Equatable, Sendable {
    public var trial: Int
    public var fold: Int
    public var configuration: TrainingConfiguration
    /// Per-epoch training numbers and inner-validation scores.
    public var history: [EpochRecord]
    /// The epoch whose weights were scored: the best inner-validation macro-F1's, or the last
    /// with `keep` last.
    public var bestEpoch: Int
    /// Scores on the held-out fold.
    public var test: EvaluationReport
    /// Scores on the held-out fold of the last epoch's weights, when the best epoch was an
    /// earlier one: whether choosing the epoch on a small inner validation share paid. Nil when
    /// the last epoch was the best (its scores are `test`), and in units written before it existed.
    public var lastEpochTest: EvaluationReport?
    public var trainFaces: Int
    public var validationFaces: Int
    public var testFaces: Int
    public var seconds: Double
    public var backend: String
    public var device: String

    /// The held-out scores of the last epoch's weights, whether or not it was the best; nil
    /// for a unit written before they were recorded whose best epoch was not its last.
    public var lastEpochScores: EvaluationReport? {
        lastEpochTest ?? (bestEpoch == history.count ? test : nil)
    }
}
