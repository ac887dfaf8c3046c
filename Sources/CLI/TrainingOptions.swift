import ArgumentParser
import FacemineData
import FacemineNN
import FacemineTraining
import Foundation

/// The training recipe, shared by `train`, `cv` and `tune`. Every option is optional: a
/// configuration file (`--config`, e.g. the `best-config.json` a search wrote) or the
/// built-in defaults fill what is not given, and what is given wins.
struct TrainingOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Start from this training configuration (JSON: TrainingConfiguration fields, any subset; "
                + "e.g. best-config.json from facemine tune). Options given here override it.", valueName: "file"))
    var config: String?
    @Option(help: "mycnn or resnet18 (default mycnn); `cv` takes a comma-separated list to compare, e.g. mycnn,resnet18.")
    var model: String?
    @Option(
        help:
            "ResNet-18 stem: small (3x3, keeps 48x48; default), medium (3x3 + max pool, 24x24) or imagenet (7x7 stride 2 + max pool, 12x12)."
    ) var stem: ResNetStem?
    @Option(
        name: [.customLong("batch-size"), .customLong("batch_size")], parsing: .unconditional,
        help: "Faces per step (default 64).") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Passes over the training faces (default 15; with --resume, the total to reach).")
    var epochs: Int?
    @Option(parsing: .unconditional, help: "Peak learning rate after warm-up (default 1e-3).") var lr: Float?
    @Option(parsing: .unconditional, help: "Weight decay on weights: L2 for sgd and adam, decoupled for adamw (default 1e-4).")
    var weightDecay: Float?
    @Option(parsing: .unconditional, help: "Dropout probability of MyCNN (default 0.5).") var dropout: Float?
    @Option(help: "sgd, adam or adamw (default adam).") var optimizer: OptimizerKind?
    @Option(parsing: .unconditional, help: "SGD momentum (default 0.9).") var momentum: Float?
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (SGD; default off).") var nesterov: Bool?
    @Option(help: "constant, step, cosine or plateau (default cosine).") var schedule: ScheduleKind?
    @Option(parsing: .unconditional, help: "Linear warm-up length in epochs (default 1).") var warmupEpochs: Double?
    @Flag(
        name: [.customLong("use-weighted-sampler"), .customLong("use_weighted_sampler")],
        help: "Draw every class equally often (weights 1 / class count, with replacement).")
    var useWeightedSampler = false
    @Option(
        parsing: .unconditional,
        help: "Tempered weighted sampler: weights class count^-alpha (1 = --use-weighted-sampler, 0 = off).") var samplerAlpha:
        Double?
    @Flag(help: "Draw (source, class) cells equally often, within --cell-floor...--cell-cap times each cell's size per epoch.")
    var cellBalancedSampler = false
    @Option(parsing: .unconditional, help: "Cell sampler: least draws per epoch, as a multiple of the cell's size (default 0.5).")
    var cellFloor: Double?
    @Option(parsing: .unconditional, help: "Cell sampler: most draws per epoch, as a multiple of the cell's size (default 8).")
    var cellCap: Double?
    @Flag(help: "Weight the loss by inverse class frequency.") var classWeightedLoss = false
    @Flag(help: "Weight the loss by the effective number of samples (Cui et al. 2019, beta 0.999).") var effectiveNumberLoss =
        false
    @Option(
        parsing: .unconditional,
        help: "Train-time logit adjustment: add tau x log class prior to the logits in the loss (default 0: off).")
    var logitAdjustment: Float?
    @Option(
        parsing: .unconditional,
        help: "Post-hoc logit adjustment: subtract tau x log class prior before predicting (default 0: off).")
    var posthocAdjustment: Float?
    @Option(parsing: .unconditional, help: "Focal loss with this gamma instead of cross-entropy (default 0: off; 2 is usual).")
    var focalGamma: Float?
    @Flag(help: "Make lab-source faces (CK+) look in-the-wild in training: lower contrast, blur, noise.") var sourceAugmentation =
        false
    @Option(
        help: ArgumentHelp(
            "Recipe: auto (the default: plain, since no recipe has beaten plain training on real FER-2013 + CK+; "
                + "docs/RESULTS.md), fer2013 (a whole FER-2013 recipe: model, schedule, augmentation, TTA), "
                + "fer-ck (a whole FER-2013 + CK+ recipe: the fer2013 training, imagenet stem, 24 epochs, 4 re-balancing epochs), "
                + "ckplus (fine-tuning a FER-2013 model on CK+, keeping the last epoch: pass its checkpoint with --init-weights), calibrated (plain training, post-hoc adjustment tuned on the validation faces), "
                + Recipe.allCases.map(\.rawValue).joined(separator: ", ") + ". Options given here add to it.",
            valueName: "name"))
    var recipe: String?
    @Option(parsing: .unconditional, help: "Label smoothing (default 0).") var labelSmoothing: Float?
    @Option(
        help:
            "Augmentation: none, light (mirror, 2-pixel shift; default) or standard (also rotation, scale, brightness, contrast)."
    )
    var augmentation: Augmentation.Strength?
    @Option(parsing: .unconditional, help: "Scale jitter: zoom drawn from [1 - X, 1 + X] (standard: 0.1).") var scaleJitter:
        Double?
    @Option(
        parsing: .unconditional,
        help: "Aspect jitter, random-resized-crop style: width/height ratio log-uniform in [1/(1+X), 1+X] (default 0).")
    var aspectJitter: Double?
    @Option(
        parsing: .unconditional,
        help: "Probability of erasing a random rectangle of each training face (torchvision RandomErasing; default 0).")
    var erasing: Double?
    @Option(
        parsing: .unconditional,
        help: "Mixup: blend each face and its loss with a partner's, weight ~ Beta(alpha, alpha) (default 0: off; 0.2-1 usual).")
    var mixup: Double?
    @Option(
        parsing: .unconditional,
        help:
            "CutMix: paste a partner's rectangle, area ~ Beta(alpha, alpha) (default 0: off; 1 usual). With --mixup: one or the other per step."
    )
    var cutmix: Double?
    @Option(
        parsing: .unconditional,
        help:
            "Validate and checkpoint an exponential moving average of the weights with this decay per step (default 0: off; 0.999 usual)."
    )
    var ema: Float?
    @Option(help: "Test-time augmentation of validation, evaluate and predict: none, flip or tencrop (default none).")
    var tta: TestTimeAugmentation?
    @Option(parsing: .unconditional, help: "TenCrop's shift in pixels: corner crops of the face padded by this much (default 2).")
    var ttaShift: Int?
    @Option(
        help: ArgumentHelp(
            "Start from these weights: a torchvision-named state dict as safetensors (ResNet-18 ImageNet weights, RGB "
                + "conv1 folded to gray) or a facemine checkpoint (e.g. pretrained on FER-2013, fine-tuned on CK+).",
            valueName: "file"))
    var initWeights: String?
    @Option(parsing: .unconditional, help: "Share of faces held out for validation (default 0.1).") var valSplit: Double?
    @Flag(help: "Use FER-2013's official split (Training / PublicTest) instead of --val-split.") var officialSplit = false
    @Option(help: "On a NaN or infinite loss or gradient: stop (default; naming the step and layer) or skip the step.")
    var onNan: NonFinitePolicy?
    @Option(parsing: .unconditional, help: "Scale gradients down to this global L2 norm when larger (default 0: off).")
    var clipGradNorm: Float?
    @Option(parsing: .unconditional, help: "Stop after this many epochs without a better validation macro-F1 (default 0: off).")
    var patience: Int?
    @Option(
        help:
            "Which epoch's weights best.safetensors keeps (and a cv fold is scored with): best (validation macro-F1; default) or last (--recipe ckplus)."
    )
    var keep: KeptEpoch?
    @Option(
        parsing: .unconditional,
        help:
            "After --epochs, this many more epochs drawing every class equally often, at a tenth of the rate decaying to zero (default 0: off; --recipe rebalanced and fer-ck: 4)."
    )
    var rebalanceEpochs: Int?

    /// The models named by --model (nil: not given).
    var models: [Architecture]? {
        get throws {
            guard let model else { return nil }
            let names = model.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return try names.map { name in
                guard let a = Architecture(rawValue: name) else {
                    throw ValidationError(
                        "--model: '\(name)' is not one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return a
            }
        }
    }

    func validate() throws {
        _ = try models
        if let batchSize {
            guard batchSize >= 2 else { throw ValidationError("--batch-size must be at least 2 (batch norm needs two faces)") }
        }
        if let epochs { guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") } }
        if let lr { guard lr > 0 else { throw ValidationError("--lr must be positive") } }
        if let dropout { guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1)") } }
        if let valSplit {
            guard valSplit > 0 && valSplit <= 0.5 else { throw ValidationError("--val-split must be in (0, 0.5]") }
        }
        if let labelSmoothing {
            guard labelSmoothing >= 0 && labelSmoothing < 1 else { throw ValidationError("--label-smoothing must be in [0, 1)") }
        }
        if let clipGradNorm {
            guard clipGradNorm >= 0 else { throw ValidationError("--clip-grad-norm must be 0 (off) or positive") }
        }
        if let mixup { guard mixup >= 0 && mixup <= 10 else { throw ValidationError("--mixup must be in 0...10") } }
        if let cutmix { guard cutmix >= 0 && cutmix <= 10 else { throw ValidationError("--cutmix must be in 0...10") } }
        if let ema { guard ema >= 0 && ema < 1 else { throw ValidationError("--ema must be in [0, 1) (0: off)") } }
        if let ttaShift { guard (0...16).contains(ttaShift) else { throw ValidationError("--tta-shift must be in 0...16") } }
        if let scaleJitter {
            guard scaleJitter >= 0 && scaleJitter <= 0.9 else { throw ValidationError("--scale-jitter must be in 0...0.9") }
        }
        if let aspectJitter {
            guard aspectJitter >= 0 && aspectJitter <= 1 else { throw ValidationError("--aspect-jitter must be in 0...1") }
        }
        if let erasing { guard erasing >= 0 && erasing <= 1 else { throw ValidationError("--erasing must be in 0...1") } }
        if let patience { guard patience >= 0 else { throw ValidationError("--patience must be 0 (off) or positive") } }
        if let rebalanceEpochs {
            guard (0...1000).contains(rebalanceEpochs) else { throw ValidationError("--rebalance-epochs must be in 0...1000") }
        }
        _ = try recipe(sources: 1, model: .mycnn)
    }

    /// The recipe `--recipe` names for faces from `sources` data sources and this model (nil: none).
    func recipe(sources: Int, model: Architecture) throws -> Recipe? {
        switch recipe ?? "auto" {
        case "auto": return sources > 1 && config == nil ? Recipe.multiSourceDefault(for: model) : nil
        case let name:
            guard let r = Recipe(rawValue: name) else {
                throw ValidationError(
                    "--recipe: '\(name)' is not auto or one of \(Recipe.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return r
        }
    }

    /// The configuration file (or the defaults), then the recipe for data of `sources` sources
    /// and the model (`model`, else the first of --model, else the file's), then every option given here.
    func configuration(seed: UInt64, sources: Int = 1, model: Architecture? = nil) throws -> TrainingConfiguration {
        var c = try config.map(TrainingConfiguration.load(contentsOf:)) ?? TrainingConfiguration()
        let chosen = try model ?? models?.first
        if let chosen { c.model = chosen }
        let applied = try recipe(sources: sources, model: c.model)
        applied?.apply(to: &c)
        // Starting from a facemine checkpoint means its architecture (a medium-stem FER-2013
        // model is fine-tuned with the medium stem, whatever stem the recipe names): another
        // stem would load every weight but the first layer's and train that one from scratch.
        if let initWeights, let architecture = Checkpoint.architecture(at: initWeights) {
            (c.model, c.stem) = architecture
        }
        // A whole recipe (fer2013, ckplus) sets the model too; a model named here still wins.
        if let chosen { c.model = chosen }
        if let stem { c.stem = stem }
        if let batchSize { c.batchSize = batchSize }
        if let epochs { c.epochs = epochs }
        if let lr { c.learningRate = lr }
        if let weightDecay { c.weightDecay = weightDecay }
        if let dropout { c.dropout = dropout }
        if let optimizer { c.optimizer = optimizer }
        if let momentum { c.momentum = momentum }
        if let nesterov { c.nesterov = nesterov }
        if let schedule { c.schedule = schedule }
        if let warmupEpochs { c.warmupEpochs = warmupEpochs }
        c.seed = seed
        if useWeightedSampler { c.weightedSampler = true }
        if classWeightedLoss { c.classWeightedLoss = true }
        if let labelSmoothing { c.labelSmoothing = labelSmoothing }
        if let augmentation {
            let labToWild = c.augmentation.labToWild
            c.augmentation = Augmentation(augmentation)
            c.augmentation.labToWild = labToWild
        }
        if let scaleJitter { c.augmentation.scale = scaleJitter }
        if let aspectJitter { c.augmentation.aspect = aspectJitter }
        if let erasing { c.augmentation.erasing = erasing }
        if let mixup { c.mixupAlpha = mixup }
        if let cutmix { c.cutmixAlpha = cutmix }
        if let ema { c.emaDecay = ema }
        if let tta { c.tta = tta }
        if let ttaShift { c.ttaShift = ttaShift }
        if let initWeights {
            guard FileManager.default.isReadableFile(atPath: initWeights) else {
                throw ValidationError("--init-weights: cannot read \(initWeights)")
            }
            c.initWeights = initWeights
        }
        if let samplerAlpha { c.weightedSampler = samplerAlpha > 0; c.samplerAlpha = samplerAlpha }
        if cellBalancedSampler { c.cellBalancedSampler = true; c.weightedSampler = false }
        if let cellFloor { c.cellFloor = cellFloor }
        if let cellCap { c.cellCap = cellCap }
        if effectiveNumberLoss { c.effectiveNumberLoss = true }
        if let logitAdjustment { c.logitAdjustment = logitAdjustment }
        if let posthocAdjustment { c.posthocAdjustment = posthocAdjustment }
        if sourceAugmentation { c.augmentation.labToWild = true }
        if let focalGamma { c.focalGamma = focalGamma }
        if let valSplit { c.validationFraction = valSplit }
        if officialSplit { c.officialSplit = true }
        if let onNan { c.onNonFinite = onNan }
        if let clipGradNorm { c.clipGradientNorm = clipGradNorm }
        if let patience { c.earlyStoppingPatience = patience }
        if let keep { c.keep = keep }
        if let rebalanceEpochs { c.rebalanceEpochs = rebalanceEpochs }
        // The configuration's own check would refuse this too, but a user who never passed
        // --rebalance-epochs needs to hear that the recipe brought them, and how to drop them.
        if let applied, rebalanceEpochs == nil, c.rebalanceEpochs > 0, c.earlyStoppingPatience > 0 {
            throw ValidationError(
                "--patience: the recipe \(applied.rawValue) ends with \(c.rebalanceEpochs) re-balancing epochs, which stopping early would skip; "
                    + "add --rebalance-epochs 0 to stop early instead")
        }
        if let applied, keep == nil, c.keep == .last, c.earlyStoppingPatience > 0 {
            throw ValidationError(
                "--patience: the recipe \(applied.rawValue) keeps the last epoch, and stopping early waits for a better one; "
                    + "add --keep best to stop early")
        }
        if let problem = c.problem { throw ValidationError("the training options: \(problem)") }
        return c
    }
}
