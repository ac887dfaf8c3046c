import FacemineData
import FacemineNN

/// `--on-nan`: stop with a message naming the step and the first layer affected (the default),
/// or skip the step's update and go on (for a rare bad batch).
public enum NonFinitePolicy: String, Codable, CaseIterable, Sendable {
    case stop
    case skip
}

/// `--keep`: which epoch's weights a run keeps as its model (`best.safetensors`, and what a
/// `cv` fold is scored with). `best` is the epoch with the best validation macro-F1 (the first
/// on ties); `last` is the last epoch, for validation shares too small to choose by: a CK+
/// fold's inner share of about 58 faces, 3-4 of them contempt, chose epochs 1.5-2 points less
/// accurate on held-out subjects than the last one (docs/RESULTS.md).
public enum KeptEpoch: String, Codable, CaseIterable, Sendable {
    case best
    case last
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
    /// Draw classes equally often (PyTorch's WeightedRandomSampler with 1/class-count weights),
    /// or, with `samplerAlpha` below 1, tempered: weights count^-alpha.
    public var weightedSampler = false
    public var samplerAlpha = 1.0
    /// Draw (source, class) cells equally often instead, within `cellFloor`...`cellCap` times
    /// each cell's size per epoch.
    public var cellBalancedSampler = false
    public var cellFloor = 0.5
    public var cellCap = 8.0
    /// Weight the loss by inverse class frequency instead.
    public var classWeightedLoss = false
    /// Weight the loss by the "effective number of samples" (beta 0.999) instead.
    public var effectiveNumberLoss = false
    /// Logit adjustment by tau x log class prior: added to the logits in training (the loss
    /// then favours rare classes), and/or subtracted before the argmax when scoring (post hoc).
    public var logitAdjustment: Float = 0
    public var posthocAdjustment: Float = 0
    /// Choose the post-hoc adjustment's tau on the validation faces after every epoch instead
    /// (`PosthocCalibration`): the best macro-F1 that costs at most a point of accuracy.
    public var calibratePosthoc = false
    /// Above 0: focal loss with this gamma instead of cross-entropy.
    public var focalGamma: Float = 0
    public var labelSmoothing: Float = 0
    public var augmentation = Augmentation(.light)
    /// Mixup and CutMix: Beta(alpha, alpha) per step; 0 is off (`BatchMixing`).
    public var mixupAlpha = 0.0
    public var cutmixAlpha = 0.0
    /// Above 0: validate and checkpoint an exponential moving average of the weights with this
    /// decay per step (`WeightAverage`).
    public var emaDecay: Float = 0
    /// Test-time augmentation of validation, `evaluate` and `predict`; `ttaShift` is the
    /// TenCrop shift in pixels (the padding of the crops).
    public var tta: TestTimeAugmentation = .none
    public var ttaShift = 2
    /// A fresh run starts from these weights: a torchvision-named state dict as safetensors
    /// (ImageNet ResNet-18, or a facemine checkpoint: pretraining on FER-2013 for CK+).
    public var initWeights: String?
    /// Share of the faces held out for validation (stratified, groups kept whole), unless
    /// `officialSplit` uses FER-2013's Training / PublicTest split.
    public var validationFraction = 0.1
    public var officialSplit = false
    /// What a step with a NaN or infinite loss or gradient does.
    public var onNonFinite: NonFinitePolicy = .stop
    /// When positive, gradients are scaled down so their global L2 norm is at most this
    /// (`torch.nn.utils.clip_grad_norm_`).
    public var clipGradientNorm: Float = 0
    /// When positive, training stops after this many epochs without a better validation
    /// macro-F1 (early stopping); `best.safetensors` holds the best epoch's weights.
    public var earlyStoppingPatience = 0
    /// Which epoch's weights `best.safetensors` holds (`KeptEpoch`); with the moving average,
    /// its weights either way.
    public var keep: KeptEpoch = .best
    /// After `epochs`, this many more epochs that draw every class equally often, from the
    /// weight average when there is one, the learning rate restarting at a tenth of the base
    /// rate and decaying to zero (cosine): deferred re-balancing (Cao et al. 2019, Kang et al.
    /// 2020). The features are learnt from the faces as they come, where sampling for the rare
    /// classes costs the common ones; the last epochs only move the decision towards the rare
    /// classes. On FER-2013 + CK+ it found contempt on held-out subjects (docs/RESULTS.md).
    public var rebalanceEpochs = 0

    /// The run's length: `epochs`, then `rebalanceEpochs`.
    public var totalEpochs: Int { epochs + rebalanceEpochs }

    public init() {}

    public var mixing: BatchMixing { BatchMixing(mixupAlpha: mixupAlpha, cutmixAlpha: cutmixAlpha) }

    // Decoding fills fields missing from the JSON with their defaults, so a configuration file
    // may name only what it changes, and files written before a field existed still load.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func take<T: Decodable>(_ key: CodingKeys, _ target: inout T) throws {
            if let value = try c.decodeIfPresent(T.self, forKey: key) { target = value }
        }
        try take(.model, &model)
        try take(.stem, &stem)
        try take(.batchSize, &batchSize)
        try take(.epochs, &epochs)
        try take(.learningRate, &learningRate)
        try take(.weightDecay, &weightDecay)
        try take(.dropout, &dropout)
        try take(.optimizer, &optimizer)
        try take(.momentum, &momentum)
        try take(.nesterov, &nesterov)
        try take(.schedule, &schedule)
        try take(.warmupEpochs, &warmupEpochs)
        try take(.seed, &seed)
        try take(.weightedSampler, &weightedSampler)
        try take(.classWeightedLoss, &classWeightedLoss)
        try take(.samplerAlpha, &samplerAlpha)
        try take(.cellBalancedSampler, &cellBalancedSampler)
        try take(.cellFloor, &cellFloor)
        try take(.cellCap, &cellCap)
        try take(.effectiveNumberLoss, &effectiveNumberLoss)
        try take(.logitAdjustment, &logitAdjustment)
        try take(.posthocAdjustment, &posthocAdjustment)
        try take(.calibratePosthoc, &calibratePosthoc)
        try take(.focalGamma, &focalGamma)

        try take(.labelSmoothing, &labelSmoothing)
        try take(.augmentation, &augmentation)
        try take(.mixupAlpha, &mixupAlpha)
        try take(.cutmixAlpha, &cutmixAlpha)
        try take(.emaDecay, &emaDecay)
        try take(.tta, &tta)
        try take(.ttaShift, &ttaShift)
        initWeights = try c.decodeIfPresent(String.self, forKey: .initWeights)
        try take(.validationFraction, &validationFraction)
        try take(.officialSplit, &officialSplit)
        try take(.onNonFinite, &onNonFinite)
        try take(.clipGradientNorm, &clipGradientNorm)
        try take(.earlyStoppingPatience, &earlyStoppingPatience)
        try take(.keep, &keep)
        try take(.rebalanceEpochs, &rebalanceEpochs)
    }
}
