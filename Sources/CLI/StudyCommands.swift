import ArgumentParser
import FacemineBackends
import FacemineData
import FacemineExperiments
import FacemineNN
import FacemineTraining
import Foundation

/// Options `cv` and `tune` share: where the study lives, which units this process runs, and
/// what runs them.
struct StudyOptions: ParsableArguments {
    @Option(
        help:
            "Study folder name under runs/ (default: the command and the time). Rerunning a command with the same --name continues its study."
    )
    var name: String?
    @Option(help: ArgumentHelp("Folder for study folders (default: FACEMINE_RUNS_DIR or ./runs).", valueName: "dir")) var runsDir:
        String?
    @Option(
        parsing: .unconditional, help: "Run only this fold (0-based), e.g. one task of a Slurm array; `facemine report` merges.")
    var fold: Int?
    @Option(parsing: .unconditional, help: "Run only this trial (0-based: the model of cv, the candidate of tune).") var trial:
        Int?
    @Option(help: ArgumentHelp("\(BackendChoice.names).")) var backend: BackendChoice = .auto
    @Option(parsing: .unconditional, help: "OpenCL device index (see facemine devices).") var device: Int?
    @Option(parsing: .unconditional, help: "CPU threads (default: FACEMINE_THREADS or all cores).") var threads: Int?
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Per-epoch lines for every unit (default: one line per finished unit).") var verbose = false
    @Flag(help: "Print the study's results (results.json) on stdout instead of tables.") var json = false

    func validate() throws {
        try backend.checkOptions(device: device, threads: threads)
        if let fold { guard fold >= 0 else { throw ValidationError("--fold must be 0 or more") } }
        if let trial { guard trial >= 0 else { throw ValidationError("--trial must be 0 or more") } }
    }
}

/// The part of `cv` and `tune` after the plan: run the chosen units (skipping finished ones),
/// then report if the study is complete.
struct StudyExecution {
    let plan: StudyPlan
    let folder: StudyFolder
    let faces: FaceDataset
    let options: StudyOptions

    func run() throws -> StudySummary? {
        try folder.prepare(plan)
        let progress = Progress(quiet: options.quiet, verbose: options.verbose, epochs: 0, batchSize: 0)
        let selected = plan.units.filter { unit in
            (options.fold.map { $0 == unit.fold } ?? true) && (options.trial.map { $0 == unit.trial } ?? true)
        }
        var reasonShown = false
        var runner = StudyRunner(plan: plan, folder: folder, dataset: faces) {
            let (backend, reason) = try options.backend.makeBackend(device: options.device, threads: options.threads)
            if !reasonShown {
                progress.say("backend: \(backend.deviceDescription) (\(reason))")
                reasonShown = true
            }
            return backend
        }
        let stop = StopSignal.install()
        runner.shouldStop = { stop.received }
        progress.say(
            "study \(folder.url.path): \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s") x \(plan.folds) fold\(plan.folds == 1 ? "" : "s"); "
                + "this process runs \(selected.count) unit\(selected.count == 1 ? "" : "s")")
        for unit in selected {
            let label =
                "\(plan.trials[unit.trial].label), "
                + (plan.holdOut
                    ? "seed \(plan.seed + UInt64(unit.fold)) (\(unit.fold + 1)/\(plan.folds))"
                    : "fold \(unit.fold + 1)/\(plan.folds)")
            if let done = try folder.result(unit) {
                progress.say("\(label): done before (\(String(format: "macro-F1 %.3f", done.test.macroF1)))")
                continue
            }
            progress.say("\(label): training")
            progress.epochs = plan.trials[unit.trial].configuration.totalEpochs
            progress.batchSize = plan.trials[unit.trial].configuration.batchSize
            progress.keepsLast = plan.trials[unit.trial].configuration.keep == .last
            let result: UnitResult
            do {
                result = try runner.run(unit) { event in
                    if options.verbose { progress.handle(event) }
                }
            } catch let interrupted as TrainingInterrupted {
                note(
                    "\(label): \(interrupted); finished units are kept in \(folder.unitsURL.path); rerun the same command to continue"
                )
                throw ExitCode(130)
            }
            progress.say(
                "\(label): "
                    + String(
                        format:
                            "accuracy %.3f, macro-F1 %.3f, weighted-F1 %.3f on %d held-out faces ("
                            + (result.configuration.keep == .last ? "kept the last epoch, " : "best epoch ")
                            + "%d of %d, %.1f min)",
                        result.test.accuracy, result.test.macroF1, result.test.weightedF1, result.testFaces,
                        result.bestEpoch, result.history.count, result.seconds / 60)
                    + (result.lastEpochTest.map {
                        String(format: "; the last epoch's weights: accuracy %.3f, macro-F1 %.3f", $0.accuracy, $0.macroF1)
                    } ?? ""))
        }
        let results = try folder.results(plan)
        guard results.count == plan.units.count else {
            let missing = plan.units.filter { u in !results.contains { $0.trial == u.trial && $0.fold == u.fold } }
            progress.say(
                "\(results.count) of \(plan.units.count) units done; missing: \(missing.prefix(8).map(\.description).joined(separator: ", "))"
                    + "\(missing.count > 8 ? ", ..." : ""). Run them (any machine sharing \(folder.url.path)), then: facemine report \(folder.url.path)"
            )
            return nil
        }
        return try StudyReport.write(plan: plan, results: results, to: folder)
    }

    static func describe(_ faces: FaceDataset, _ data: DataOptions) -> String {
        data.usesRealData ? "real data" : "\(data.twoSources ? "two-source " : "")synthetic faces (seed \(data.seed))"
    }

    static func defaultName(_ prefix: String) -> String { "\(prefix)-\(TrainCommand.timestamp(Date()))" }
}

struct CVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "Cross-validate one or more models: stratified k-fold (CK+ subjects and synthetic identities kept whole).",
        discussion: """
            Each fold trains with the full training options on the other folds, keeps the weights of the epoch with the best \
            macro-F1 on a validation share of them (--patience N also stops training after N epochs without a better one; \
            --keep last, as --recipe ckplus, keeps the last epoch's instead), and is scored on the fold it never saw (its last epoch's weights too, when they are not the best one's, to show \
            what the choice bought). Prints each fold, then mean ± std of accuracy, \
            macro-F1, weighted-F1 and per-class F1, and writes runs/NAME/report.html, report.md and results.json. Every \
            finished fold is saved at once: rerun the command to continue after a crash, or run folds as separate jobs with \
            --fold K (and --trial T) and merge with `facemine report`.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var training: TrainingOptions
    @Option(parsing: .unconditional, help: "Number of folds.") var folds = 5
    @OptionGroup var study: StudyOptions

    func validate() throws {
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        if let fold = study.fold {
            guard (0..<folds).contains(fold) else { throw ValidationError("--fold must be in 0..<\(folds)") }
        }
    }

    func run() throws {
        _ = try study.backend.makeBackend(device: study.device, threads: study.threads)  // a missing device before the data loads
        let faces = try dataOptions.load()
        let base = try training.configuration(seed: dataOptions.seed, sources: faces.sources.count)
        let models = try training.models ?? [base.model]
        let trials = try models.map { model -> StudyPlan.Trial in
            // Each model with its own multi-source recipe (`--recipe auto` depends on the model).
            let c = try training.configuration(seed: dataOptions.seed, sources: faces.sources.count, model: model)
            let label = model == .resnet18 ? "ResNet-18 (\(c.stem.rawValue) stem)" : "MyCNN"
            return StudyPlan.Trial(label: label, configuration: c)
        }
        if let trial = study.trial {
            guard trials.indices.contains(trial) else { throw ValidationError("--trial must be in 0..<\(trials.count)") }
        }
        let plan = StudyPlan(
            kind: .crossValidation, trials: trials, folds: folds, holdOut: false,
            data: StudyExecution.describe(faces, dataOptions), faces: faces.count, seed: dataOptions.seed)
        let folder = StudyFolder(
            RunsDirectory.folder(for: study.name ?? StudyExecution.defaultName("cv"), runsDir: study.runsDir))
        guard let summary = try StudyExecution(plan: plan, folder: folder, faces: faces, options: study).run() else { return }
        if study.json { return try printJSON(summary) }
        print(summary.resultsTable)
        if !summary.epochChoiceTable.isEmpty { print(summary.epochChoiceTable) }
        print(summary.perClassTable)
        note("wrote \(folder.url.path)/report.html, report.md and results.json")
    }
}

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Search hyper-parameters (grid or random), scored by cross-validated macro-F1.",
        discussion: """
            The search space is a list of name=value,value,... items over lr, weight-decay, batch-size, dropout, optimizer, \
            sampler (on/off) and augmentation (none/light/standard); the training options set everything else. Prints the \
            trials sorted by score and writes runs/NAME/best-config.json, which `facemine train --config FILE` takes, plus the \
            reports. Finished trials are kept: rerun to continue, or spread trials over machines with --trial T.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var training: TrainingOptions
    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Search space items (default: \(SearchSpace.standard.dimensions.map { "\($0.name)=\($0.values.joined(separator: ","))" }.joined(separator: " "))).",
            valueName: "name=values"))
    var space: [String] = []
    @Option(parsing: .unconditional, help: "Random search: this many distinct combinations (default: the whole grid).")
    var random: Int?
    @Option(parsing: .unconditional, help: "Folds of the cross-validation that scores each trial.") var folds = 3
    @Flag(help: "Score each trial on one fixed validation split (--val-split) instead: faster, noisier, optimistic.")
    var holdout = false
    @Option(
        parsing: .unconditional,
        help: "With --holdout: train each trial this many times with seeds S, S+1, ... and report mean ± std over them.")
    var repeats = 1
    @OptionGroup var study: StudyOptions

    func validate() throws {
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        if let random { guard random >= 1 else { throw ValidationError("--random must be at least 1") } }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard repeats == 1 || holdout else {
            throw ValidationError("--repeats needs --holdout (cross-validation repeats over folds)")
        }
    }

    func run() throws {
        _ = try study.backend.makeBackend(device: study.device, threads: study.threads)  // a missing device before the data loads
        let faces = try dataOptions.load()
        let base = try training.configuration(seed: dataOptions.seed, sources: faces.sources.count)
        let searchSpace = space.isEmpty ? SearchSpace.standard : try SearchSpace(parsing: space)
        let trials = try searchSpace.trials(
            base: base, random: random.map { min($0, searchSpace.combinationCount) }, seed: dataOptions.seed)
        if let trial = study.trial {
            guard trials.indices.contains(trial) else { throw ValidationError("--trial must be in 0..<\(trials.count)") }
        }
        let foldCount = holdout ? repeats : folds
        if let fold = study.fold {
            guard (0..<foldCount).contains(fold) else { throw ValidationError("--fold must be in 0..<\(foldCount)") }
        }
        let plan = StudyPlan(
            kind: .tuning, trials: trials, folds: foldCount, holdOut: holdout,
            data: StudyExecution.describe(faces, dataOptions), faces: faces.count, seed: dataOptions.seed)
        let folder = StudyFolder(
            RunsDirectory.folder(for: study.name ?? StudyExecution.defaultName("tune"), runsDir: study.runsDir))
        guard let summary = try StudyExecution(plan: plan, folder: folder, faces: faces, options: study).run() else { return }
        let best = try TuneCommand.writeBest(summary, folder: folder)
        if study.json { return try printJSON(summary) }
        print(summary.resultsTable)
        note("best: \(summary.trials[summary.ranking[0]].label); wrote \(best.path) (use: facemine train --config \(best.path))")
    }

    /// The winning configuration as a file `train --config` reads.
    static func writeBest(_ summary: StudySummary, folder: StudyFolder) throws -> URL {
        let url = folder.url.appendingPathComponent("best-config.json")
        try RunFiles.writeJSON(summary.trials[summary.ranking[0]].configuration, to: url)
        return url
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Merge a cv or tune study's finished units (run anywhere) into report.html, report.md and results.json.")

    @Argument(help: "The study folder, e.g. runs/cv-20261125-120000.") var folder: String
    @Flag(help: "Print the study's results (results.json) on stdout instead of tables.") var json = false

    func run() throws {
        let study = StudyFolder(URL(fileURLWithPath: folder))
        guard let plan = try study.readPlan() else {
            throw CommandFailure("\(folder): no study.json here; give the folder a `facemine cv` or `facemine tune` run created")
        }
        let results = try study.results(plan)
        guard !results.isEmpty else { throw CommandFailure("\(folder): no finished units yet (\(plan.units.count) planned)") }
        let summary = try StudyReport.write(plan: plan, results: results, to: study)
        if json {
            try printJSON(summary)
        } else {
            print(summary.resultsTable)
            if !summary.epochChoiceTable.isEmpty { print(summary.epochChoiceTable) }
        }
        if plan.kind == .tuning && summary.trials[summary.ranking[0]].complete {
            let best = try TuneCommand.writeBest(summary, folder: study)
            note("best: \(summary.trials[summary.ranking[0]].label); wrote \(best.path)")
        }
        note("\(results.count) of \(plan.units.count) units; wrote \(folder)/report.html, report.md and results.json")
    }
}

/// A study's summary as JSON on stdout, as results.json holds it.
func printJSON(_ summary: StudySummary) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(summary), as: UTF8.self))
}
