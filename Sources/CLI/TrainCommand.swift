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
extension TestTimeAugmentation: ExpressibleByArgument {}
extension KeptEpoch: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier (MyCNN or ResNet-18) and report its validation scores.",
        discussion: "Without --data it trains on the built-in synthetic faces.")

    @OptionGroup var dataOptions: DataOptions

    @OptionGroup var training: TrainingOptions
    @Option(help: ArgumentHelp("\(BackendChoice.names).")) var backend: BackendChoice = .auto
    @Option(parsing: .unconditional, help: "OpenCL device index (see facemine devices).") var device: Int?
    @Option(parsing: .unconditional, help: "CPU threads (default: FACEMINE_THREADS or all cores).") var threads: Int?
    @Option(help: "Run folder name under runs/ (default: model and time).") var name: String?
    @Option(help: ArgumentHelp("Folder for run folders (default: FACEMINE_RUNS_DIR or ./runs).", valueName: "dir")) var runsDir:
        String?
    @Flag(help: "Continue the run named by --name from its last checkpoint (runs/NAME/last.safetensors).") var resume = false
    @Flag(help: "Replace an existing run of the same --name (its checkpoints and logs are deleted first).") var overwrite = false
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Print the final metrics as JSON on stdout instead of tables.") var json = false
    @Flag(help: "Per-epoch details, e.g. the share of MyCNN's fc1 units still firing.") var verbose = false
    func validate() throws {
        guard (try training.models?.count ?? 1) == 1 else {
            throw ValidationError("train takes one --model; `facemine cv` compares several")
        }
        try backend.checkOptions(device: device, threads: threads)
        guard !resume || name != nil else { throw ValidationError("--resume needs --name of the run to continue") }
        guard !(resume && overwrite) else { throw ValidationError("--resume and --overwrite exclude each other") }
        guard !(resume && training.initWeights != nil) else {
            throw ValidationError("--resume and --init-weights cannot be combined")
        }
    }

    func run() throws {
        let started = Date()
        // A named run that exists is refused before any data is loaded, unless resumed or replaced.
        if let name, !resume {
            let existing = RunsDirectory.folder(for: name, runsDir: runsDir)
            if RunsDirectory.holdsRun(existing) {
                guard overwrite else {
                    throw CommandFailure(
                        "\(existing.path) already holds a run; continue it with `facemine train --name \(name) --resume` "
                            + "(and the same data options) or start again with `--overwrite`")
                }
                RunsDirectory.clear(existing)
            }
        }
        // The backend before the data: a device that is not there costs no load of FER-2013.
        let (backendInstance, reason) = try backend.makeBackend(device: device, threads: threads)
        let faces = try dataOptions.load()
        var config = try training.configuration(seed: dataOptions.seed, sources: faces.sources.count)
        let runName = name ?? "\(config.model.rawValue)-\(Self.timestamp(started))"
        let folder = RunsDirectory.folder(for: runName, runsDir: runsDir)
        if !resume, let recipe = try training.recipe(sources: faces.sources.count, model: config.model) {
            note("recipe: \(recipe.rawValue)")
        }
        var checkpoint: SafeTensors?
        let lastURL = folder.appendingPathComponent("last.safetensors")
        if resume {
            // The run continues with the configuration it started with; only --epochs may grow.
            let file = try SafeTensors(contentsOf: lastURL)
            let (saved, _) = try Checkpoint.describe(file, location: lastURL.path)
            config = saved
            if let epochs = training.epochs { config.epochs = max(epochs, saved.epochs) }
            checkpoint = file
        }
        if !resume { try RunFiles.writeJSON(config, to: folder.appendingPathComponent("config.json")) }
        let (train, validation) = try split(faces, config)
        let trainer = try Trainer(
            configuration: config, backend: backendInstance, dataset: faces,
            trainIndices: train, validationIndices: validation)
        let progress = Progress(quiet: quiet || json, verbose: verbose, epochs: config.totalEpochs, batchSize: config.batchSize)
        progress.keepsLast = config.keep == .last
        if let checkpoint {
            try trainer.resume(from: checkpoint, location: lastURL.path)
            progress.say("resuming \(runName) after epoch \(trainer.state.epochsDone) of \(config.totalEpochs)")
        }
        progress.say("backend: \(backendInstance.deviceDescription) (\(reason))")
        progress.say(
            "model: \(trainer.model.name), \(trainer.model.parameterCount.formatted()) parameters; "
                + "\(train.count) training and \(validation.count) validation faces; \(trainer.stepsPerEpoch) steps per epoch")
        if !validation.isEmpty {
            progress.say(Self.validationClasses(validation.map { faces.records[$0].label }, present: faces.classCounts))
            if faces.sources.count > 1, let left = trainer.state.sourceClasses?.omissions(among: faces.sources) {
                progress.say("validation scores each face over its source's classes: \(left)")
            }
        }
        // Ctrl-C or SIGTERM: finish the current step, save where the run stands, and say how to go on.
        let stop = StopSignal.install()
        trainer.shouldStop = { stop.received }
        let history: [EpochRecord]
        do {
            history = try trainer.run(checkpoints: folder, progress.handle)
        } catch let interrupted as TrainingInterrupted {
            note(
                "\(interrupted) of \(config.totalEpochs * trainer.stepsPerEpoch); saved \(lastURL.path); "
                    + "continue with: facemine train --name \(runName) --resume (and the same data options)")
            throw ExitCode(130)
        } catch let bad as NonFiniteStep {
            throw CommandFailure("\(bad); the last checkpoint in \(folder.path) is intact")
        } catch let failure as DeviceError {
            throw CommandFailure(
                Self.advice(
                    failure, batchSize: config.batchSize, runName: runName,
                    epochsSaved: trainer.state.epochsDone, lastURL: lastURL))
        }
        let wall = Date().timeIntervalSince(started)
        let trainSeconds = history.reduce(0) { $0 + $1.seconds }
        let summary = RunSummary(
            model: trainer.model.name, parameters: trainer.model.parameterCount, configuration: config,
            backend: backendInstance.kind.rawValue, device: backendInstance.deviceDescription, threads: threads,
            data: .init(
                description: StudyExecution.describe(faces, dataOptions),
                faces: faces.count, classCounts: faces.classCounts, trainFaces: train.count, validationFaces: validation.count),
            history: history, wallSeconds: wall,
            trainImagesPerSecond: Double(history.count * trainer.stepsPerEpoch * config.batchSize) / max(trainSeconds, 1e-9))
        try RunFiles.writeJSON(summary, to: folder.appendingPathComponent("metrics.json"))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else if let best = summary.best {
            let report = best.validation
            let tau = history.first { $0.epoch == best.epoch }?.posthocAdjustment
            print(
                (config.keep == .last ? "kept the last epoch, " : "best epoch ") + "\(best.epoch) of \(history.count) (best.safetensors; facemine evaluate scores it"
                    + (tau.map { ", with the post-hoc adjustment tau \($0) chosen on the validation faces" } ?? "") + "):")
            print(ReportTables.scores(report))
            if let last = summary.last, last.epoch != best.epoch {
                print("last epoch \(last.epoch) (last.safetensors):")
                print(ReportTables.scores(last.validation))
            }
            print(ReportTables.perClass(report))
            if report.perSource != nil { print(ReportTables.perSource(report)) }
            print(ReportTables.confusion(report.confusion))
        }
        progress.say(
            "wrote \(folder.path)/metrics.json, last.safetensors and best.safetensors (\(String(format: "%.0f", wall)) s)")
    }

    /// What a device failure mid-run means for the user: which file is intact and what to run
    /// next. Checkpoints hold no backend state, so a run a GPU could not finish goes on on the CPU.
    static func advice(_ failure: DeviceError, batchSize: Int, runName: String, epochsSaved: Int, lastURL: URL) -> String {
        let saved =
            FileManager.default.fileExists(atPath: lastURL.path)
            ? "\(lastURL.path) (after epoch \(epochsSaved)) is intact"
            : "no epoch had finished, so there is no checkpoint yet"
        switch failure {
        case .outOfMemory:
            let smaller = max(batchSize / 2, 1)
            return "\(failure) at batch size \(batchSize); \(saved); try --batch-size \(smaller)"
                + (smaller == batchSize ? "" : " (half the memory for activations)")
        default:
            let resume =
                FileManager.default.fileExists(atPath: lastURL.path)
                ? "; continue on the CPU with: facemine train --name \(runName) --resume --backend cpu (and the same data options)"
                : ""
            return "\(failure); \(saved)\(resume)"
        }
    }

    /// How many validation faces each class has, and a warning for a class too thin to score:
    /// its recall, the macro-F1 and so the choice of best.safetensors rest on those few faces.
    static func validationClasses(_ labels: [Emotion], present: [Int]) -> String {
        var counts = [Int](repeating: 0, count: Emotion.count)
        for l in labels { counts[l.rawValue] += 1 }
        let shown = Emotion.allCases.filter { present[$0.rawValue] > 0 }
        var line = "validation faces per class: " + shown.map { "\($0.name) \(counts[$0.rawValue])" }.joined(separator: ", ")
        let thin = shown.filter { counts[$0.rawValue] < 10 }
        if !thin.isEmpty {
            line +=
                "; fewer than 10 for " + thin.map(\.name).joined(separator: ", ")
                + ": their recall rests on few faces (a larger --val-split sees more)"
        }
        return line
    }

    func split(_ faces: FaceDataset, _ c: TrainingConfiguration) throws -> ([Int], [Int]) {
        if c.officialSplit {
            guard faces.records.contains(where: { $0.split == .publicTest }) else {
                throw CommandFailure(
                    "--official-split: these faces have no FER-2013 PublicTest split (it comes with fer2013.csv "
                        + "or the Kaggle folders' test/); hold out a share with --val-split instead")
            }
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
