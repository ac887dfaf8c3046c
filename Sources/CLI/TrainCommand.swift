import ArgumentParser
import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineTraining
import Foundation

extension Architecture: ExpressibleByArgument {}
extension ResNetStem: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension BackendChoice: ExpressibleByArgument {}
extension Augmentation.Strength: ExpressibleByArgument {}
extension NonFinitePolicy: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier (MyCNN or ResNet-18) and report its validation scores.",
        discussion: "Without --data it trains on the built-in synthetic faces.")

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "mycnn or resnet18.") var model: Architecture = .mycnn
    @Option(help: "ResNet-18 stem: small (3x3, keeps 48x48) or imagenet (7x7 stride 2 + max pool).") var stem: ResNetStem = .small
    @Option(name: [.customLong("batch-size"), .customLong("batch_size")], help: "Faces per step.") var batchSize = 64
    @Option(help: "Passes over the training faces (default 15; with --resume, the total to reach).") var epochs: Int?
    @Option(help: "Peak learning rate (after warm-up).") var lr: Float = 1e-3
    @Option(help: "Weight decay on weights (L2 for sgd and adam, decoupled for adamw).") var weightDecay: Float = 1e-4
    @Option(help: "Dropout probability (MyCNN).") var dropout: Float = 0.5
    @Option(help: "sgd, adam or adamw.") var optimizer: OptimizerKind = .adam
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Flag(help: "Nesterov momentum (SGD).") var nesterov = false
    @Option(help: "constant, step, cosine or plateau.") var schedule: ScheduleKind = .cosine
    @Option(help: "Linear warm-up length in epochs.") var warmupEpochs = 1.0
    @Flag(name: [.customLong("use-weighted-sampler"), .customLong("use_weighted_sampler")],
          help: "Draw every class equally often (weights 1 / class count, with replacement).")
    var useWeightedSampler = false
    @Flag(help: "Weight the loss by inverse class frequency.") var classWeightedLoss = false
    @Option(help: "Label smoothing.") var labelSmoothing: Float = 0
    @Option(help: "Augmentation: none, light (mirror, 2-pixel shift) or standard (also rotation, scale, brightness, contrast).")
    var augmentation: Augmentation.Strength = .light
    @Option(help: "Share of faces held out for validation.") var valSplit = 0.1
    @Flag(help: "Use FER-2013's official split (Training / PublicTest) instead of --val-split.") var officialSplit = false
    @Option(help: "auto, cpu or opencl.") var backend: BackendChoice = .auto
    @Option(help: "OpenCL device index (see facemine devices).") var device: Int?
    @Option(help: "CPU threads (default: FACEMINE_THREADS or all cores).") var threads: Int?
    @Option(help: "Run folder name under runs/ (default: model and time).") var name: String?
    @Flag(help: "Continue the run named by --name from its last checkpoint (runs/NAME/last.safetensors).") var resume = false
    @Option(help: ArgumentHelp("Start from these weights: a torchvision-named state dict as safetensors (e.g. ResNet-18 ImageNet weights; RGB conv1 is folded to gray).", valueName: "file"))
    var initWeights: String?
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Print the final metrics as JSON on stdout instead of tables.") var json = false
    @Flag(help: "Per-epoch details, e.g. the share of MyCNN's fc1 units still firing.") var verbose = false
    @Option(help: "On a NaN or infinite loss or gradient: stop (naming the step and layer) or skip the step.")
    var onNan: NonFinitePolicy = .stop
    @Option(help: "Scale gradients down to this global L2 norm when larger (0: off).") var clipGradNorm: Float = 0

    func validate() throws {
        guard batchSize >= 2 else { throw ValidationError("--batch-size must be at least 2 (batch norm needs two faces)") }
        guard (epochs ?? 1) >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard !resume || name != nil else { throw ValidationError("--resume needs --name of the run to continue") }
        guard !(resume && initWeights != nil) else { throw ValidationError("--resume and --init-weights cannot be combined") }
        guard lr > 0 else { throw ValidationError("--lr must be positive") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1)") }
        guard valSplit > 0 && valSplit <= 0.5 else { throw ValidationError("--val-split must be in (0, 0.5]") }
        guard labelSmoothing >= 0 && labelSmoothing < 1 else { throw ValidationError("--label-smoothing must be in [0, 1)") }
        guard clipGradNorm >= 0 else { throw ValidationError("--clip-grad-norm must be 0 (off) or positive") }
    }

    var trainingConfiguration: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = model
        c.stem = stem
        c.batchSize = batchSize
        if let epochs { c.epochs = epochs }
        c.learningRate = lr
        c.weightDecay = weightDecay
        c.dropout = dropout
        c.optimizer = optimizer
        c.momentum = momentum
        c.nesterov = nesterov
        c.schedule = schedule
        c.warmupEpochs = warmupEpochs
        c.seed = dataOptions.seed
        c.weightedSampler = useWeightedSampler
        c.classWeightedLoss = classWeightedLoss
        c.labelSmoothing = labelSmoothing
        c.augmentation = Augmentation(augmentation)
        c.validationFraction = valSplit
        c.officialSplit = officialSplit
        c.onNonFinite = onNan
        c.clipGradientNorm = clipGradNorm
        return c
    }

    func run() throws {
        let started = Date()
        let runName = name ?? "\(model.rawValue)-\(Self.timestamp(started))"
        let folder = URL(fileURLWithPath: "runs").appendingPathComponent(runName)
        var config = trainingConfiguration
        var checkpoint: SafeTensors?
        let lastURL = folder.appendingPathComponent("last.safetensors")
        if resume {
            // The run continues with the configuration it started with; only --epochs may grow.
            let file = try SafeTensors(contentsOf: lastURL)
            let (saved, _) = try Checkpoint.describe(file, location: lastURL.path)
            config = saved
            if let epochs { config.epochs = max(epochs, saved.epochs) }
            checkpoint = file
        }
        let faces = try dataOptions.load()
        let (backendInstance, reason) = try backend.makeBackend(device: device, threads: threads)
        let (train, validation) = split(faces, config)
        let trainer = try Trainer(configuration: config, backend: backendInstance, dataset: faces,
                                  trainIndices: train, validationIndices: validation)
        let progress = Progress(quiet: quiet || json, verbose: verbose, epochs: config.epochs, batchSize: config.batchSize)
        if let checkpoint {
            try trainer.resume(from: checkpoint, location: lastURL.path)
            progress.say("resuming \(runName) after epoch \(trainer.state.epochsDone) of \(config.epochs)")
        }
        if let initWeights {
            let file = try SafeTensors(contentsOf: URL(fileURLWithPath: initWeights))
            for line in try PretrainedWeights.load(file, into: trainer.model, backend: backendInstance, location: initWeights) {
                progress.say(line)
            }
        }
        progress.say("backend: \(backendInstance.deviceDescription) (\(reason))")
        progress.say("model: \(trainer.model.name), \(trainer.model.parameterCount.formatted()) parameters; "
                     + "\(train.count) training and \(validation.count) validation faces; \(trainer.stepsPerEpoch) steps per epoch")
        // Ctrl-C or SIGTERM: finish the current step, save where the run stands, and say how to go on.
        let stop = StopSignal.install()
        trainer.shouldStop = { stop.received }
        let history: [EpochRecord]
        do {
            history = try trainer.run(checkpoints: folder, progress.handle)
        } catch let interrupted as TrainingInterrupted {
            note("\(interrupted) of \(config.epochs * trainer.stepsPerEpoch); saved \(lastURL.path); "
                 + "continue with: facemine train --name \(runName) --resume (and the same data options)")
            throw ExitCode(130)
        } catch let bad as NonFiniteStep {
            throw CommandFailure("\(bad); the last checkpoint in \(folder.path) is intact")
        } catch let failure as DeviceError {
            throw CommandFailure(Self.advice(failure, batchSize: config.batchSize, runName: runName,
                                             epochsSaved: trainer.state.epochsDone, lastURL: lastURL))
        }
        let wall = Date().timeIntervalSince(started)
        let trainSeconds = history.reduce(0) { $0 + $1.seconds }
        let summary = RunSummary(
            model: trainer.model.name, parameters: trainer.model.parameterCount, configuration: config,
            backend: backendInstance.kind.rawValue, device: backendInstance.deviceDescription, threads: threads,
            data: .init(description: dataOptions.usesRealData ? "real data" : "synthetic faces (seed \(dataOptions.seed))",
                        faces: faces.count, classCounts: faces.classCounts, trainFaces: train.count, validationFaces: validation.count),
            history: history, final: history.last?.validation, wallSeconds: wall,
            trainImagesPerSecond: Double(history.count * trainer.stepsPerEpoch * config.batchSize) / max(trainSeconds, 1e-9))
        try RunFiles.writeJSON(summary, to: folder.appendingPathComponent("metrics.json"))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else if let report = summary.final {
            print(ReportTables.scores(report))
            print(ReportTables.perClass(report))
            print(ReportTables.confusion(report.confusion))
        }
        progress.say("wrote \(folder.path)/metrics.json, last.safetensors and best.safetensors (\(String(format: "%.0f", wall)) s)")
    }

    /// What a device failure mid-run means for the user: which file is intact and what to run
    /// next. Checkpoints hold no backend state, so a run a GPU could not finish goes on on the CPU.
    static func advice(_ failure: DeviceError, batchSize: Int, runName: String, epochsSaved: Int, lastURL: URL) -> String {
        let saved = FileManager.default.fileExists(atPath: lastURL.path)
            ? "\(lastURL.path) (after epoch \(epochsSaved)) is intact"
            : "no epoch had finished, so there is no checkpoint yet"
        switch failure {
        case .outOfMemory:
            let smaller = max(batchSize / 2, 1)
            return "\(failure) at batch size \(batchSize); \(saved); try --batch-size \(smaller)"
                + (smaller == batchSize ? "" : " (half the memory for activations)")
        default:
            let resume = FileManager.default.fileExists(atPath: lastURL.path)
                ? "; continue on the CPU with: facemine train --name \(runName) --resume --backend cpu (and the same data options)"
                : ""
            return "\(failure); \(saved)\(resume)"
        }
    }

    func split(_ faces: FaceDataset, _ c: TrainingConfiguration) -> ([Int], [Int]) {
        if c.officialSplit {
            let s = Splits.official(faces.records, seed: c.seed)
            return (s.train, s.validation)
        }
        let fold = Splits.holdOut(faces.records, fraction: c.validationFraction, seed: c.seed)
        return (fold.train, fold.validation)
    }

    static func timestamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
