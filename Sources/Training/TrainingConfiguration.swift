import FacemineData
import FacemineNN

/// `--on-nan`: stop with a message naming the step and the first layer affected (the default),
/// or skip the step's update and go on (for a rare bad batch).
public enum NonFinitePolicy: String, Codable, CaseIterable, Sendable {
    case stop
    case skip
}

/// Everything that decides what a training run computes. Written into metrics.json, so a run
/// can be repeated from its results.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    public var model: Architecture = .mycnn
    public var stem: ResNetStem = .small
    public var batchSize = 64
    public var epochs = 15
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-4
    public var dropout: Float = 0.5
    public var optimizer: OptimizerKind = .adam
    public var momentum: Float = 0.9
    public var nesterov = false
    public var schedule: ScheduleKind = .cosine
    /// Linear warm-up from a tenth of the rate, in epochs (fractions allowed).
    public var warmupEpochs = 1.0
    public var seed: UInt64 = 0
    /// Draw classes equally often (PyTorch's WeightedRandomSampler with 1/class-count weights).
    public var weightedSampler = false
    /// Weight the loss by inverse class frequency instead.
    public var classWeightedLoss = false
    public var labelSmoothing: Float = 0
    public var augmentation = Augmentation(.light)
    /// Share of the faces held out for validation (stratified, groups kept whole), unless
    /// `officialSplit` uses FER-2013's Training / PublicTest split.
    public var validationFraction = 0.1
    public var officialSplit = false
    /// What a step with a NaN or infinite loss or gradient does.
    public var onNonFinite: NonFinitePolicy = .stop
    /// When positive, gradients are scaled down so their global L2 norm is at most this
    /// (`torch.nn.utils.clip_grad_norm_`).
    public var clipGradientNorm: Float = 0

    public init() {}
}
