import FacemineData
import FacemineExperiments
import FacemineTraining
import Foundation
import Testing

/// What `train` prints is what it saved, a run is never overwritten by accident, logs are live,
/// and no option value crashes a command.
@Suite struct TrustCommandTests {
    static func run(
        _ arguments: [String], in folder: URL, environment: [String: String] = [:],
        stdoutOnly: Bool = false
    ) throws -> (Int32, String) {
        try runFacemine(arguments, in: folder, environment: environment, stdoutOnly: stdoutOnly)
    }

    static let data = ["--synthetic-count", "300", "--threads", "1", "--batch-size", "16"]

    /// The summary names the best epoch and its scores are what `evaluate` gives for
    /// best.safetensors; metrics.json holds best and last; history.csv has a row per epoch.
    @Test func theSummaryIsTheBestCheckpointsScoresAndHistoryIsLogged() throws {
        let work = try temporaryFolder("trust-summary")
        defer { try? FileManager.default.removeItem(at: work) }
        let (status, output) = try Self.run(["train"] + Self.data + ["--epochs", "4", "--name", "s"], in: work)
        #expect(status == 0, "\(output)")
        let metrics = try JSONDecoder().decode(
            RunSummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/s/metrics.json")))
        let best = try #require(metrics.best), last = try #require(metrics.last)
        #expect(last.epoch == 4 && metrics.history[best.epoch - 1].newBest == true)
        #expect(output.contains("best epoch \(best.epoch) of 4"), "\(output)")
        #expect(output.contains("best so far: saved best.safetensors"))
        let (evalStatus, evalOutput) = try Self.run(
            ["evaluate", "runs/s/best.safetensors"] + Self.data.prefix(4) + ["--json"], in: work, stdoutOnly: true)
        #expect(evalStatus == 0, "\(evalOutput)")
        let rescored = try JSONDecoder().decode(EvaluationReport.self, from: Data(evalOutput.utf8))
        #expect(rescored.accuracy == best.validation.accuracy && rescored.macroF1 == best.validation.macroF1)
        let csv = try String(contentsOf: work.appendingPathComponent("runs/s/history.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n")
        #expect(rows.count == 5 && rows[0].hasPrefix("epoch,learning_rate,train_loss"), "\(csv)")
        #expect(
            rows.allSatisfy {
                $0.split(separator: ",", omittingEmptySubsequences: false).count == rows[0].split(separator: ",").count
            })
    }

    /// An existing --name is refused before any work, with both ways on; --overwrite replaces
    /// it; --runs-dir, FACEMINE_RUNS_DIR and absolute names choose the folder.
    @Test func runsAreNeverOverwrittenByAccident() throws {
        let work = try temporaryFolder("trust-overwrite")
        defer { try? FileManager.default.removeItem(at: work) }
        let quick = ["train", "--synthetic-count", "60", "--threads", "1", "--batch-size", "16", "--epochs", "1", "--quiet"]
        #expect(try Self.run(quick + ["--name", "r"], in: work).0 == 0)
        let before = try Data(contentsOf: work.appendingPathComponent("runs/r/last.safetensors"))
        let (refused, message) = try Self.run(quick + ["--name", "r"], in: work)
        #expect(refused != 0 && message.contains("--resume") && message.contains("--overwrite"), "\(message)")
        #expect(try Data(contentsOf: work.appendingPathComponent("runs/r/last.safetensors")) == before)
        #expect(try Self.run(quick + ["--name", "r", "--overwrite", "--seed", "3"], in: work).0 == 0)
        #expect(try Data(contentsOf: work.appendingPathComponent("runs/r/last.safetensors")) != before)
        #expect(try Self.run(quick + ["--name", "d", "--runs-dir", "elsewhere"], in: work).0 == 0)
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("elsewhere/d/metrics.json").path))
        #expect(try Self.run(quick + ["--name", "e"], in: work, environment: ["FACEMINE_RUNS_DIR": "viaenv"]).0 == 0)
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("viaenv/e/metrics.json").path))
        let absolute = work.appendingPathComponent("absolute-run").path
        #expect(try Self.run(quick + ["--name", absolute], in: work).0 == 0)
        #expect(FileManager.default.fileExists(atPath: absolute + "/metrics.json"))
    }

    /// `predict` reads folders, lists the images it could not read in --json (and exits 1),
    /// and the binary has a version and suggests the command a typo meant.
    @Test func predictTakesFoldersAndNamesFailuresAndTyposGetSuggestions() throws {
        let work = try temporaryFolder("trust-predict")
        defer { try? FileManager.default.removeItem(at: work) }
        #expect(
            try Self.run(
                [
                    "train", "--synthetic-count", "60", "--threads", "1", "--batch-size", "16", "--epochs", "1",
                    "--quiet", "--name", "p",
                ], in: work
            ).0 == 0)
        let folder = work.appendingPathComponent("photos/inner")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let face = (0..<2304).map { UInt8($0 % 251) }
        try Data(GrayImage.encodePNG(face, width: 48, height: 48)).write(to: folder.appendingPathComponent("b.png"))
        try Data(GrayImage.encodePNG(face, width: 48, height: 48)).write(to: work.appendingPathComponent("photos/a.PNG"))
        try Data("not an image".utf8).write(to: work.appendingPathComponent("photos/broken.jpg"))
        let (status, output) = try Self.run(
            ["predict", "runs/p/best.safetensors", "photos", "missing.png", "--json"], in: work,
            stdoutOnly: true)
        #expect(status == 1)
        struct Row: Decodable { var image: String; var classes: [String]?; var error: String? }
        let rows = try JSONDecoder().decode([Row].self, from: Data(output.utf8))
        #expect(rows.map(\.image) == ["photos/a.PNG", "photos/broken.jpg", "photos/inner/b.png", "missing.png"])
        #expect(rows.map { $0.classes?.count ?? 0 } == [3, 0, 3, 0])
        #expect(rows[1].error != nil && rows[3].error?.contains("no such file") == true)
        let (versionStatus, version) = try Self.run(["--version"], in: work)
        #expect(versionStatus == 0 && version.trimmingCharacters(in: .whitespacesAndNewlines) == RunSummary.version)
        let (typoStatus, typo) = try Self.run(["trian"], in: work)
        #expect(typoStatus != 0 && typo.contains("did you mean train?"), "\(typo)")
        // Options that cannot apply to this data are refused, and other data is noticed.
        let (official, officialMessage) = try Self.run(
            ["train", "--synthetic-count", "60", "--official-split", "--quiet"], in: work)
        #expect(official != 0 && officialMessage.contains("no FER-2013 PublicTest split"), "\(officialMessage)")
        let (_, evaluated) = try Self.run(
            ["evaluate", "runs/p/best.safetensors", "--synthetic-count", "80", "--threads", "1"], in: work)
        #expect(evaluated.contains("warning: the checkpoint was trained on data of 60 faces, 80 are loaded"), "\(evaluated)")
    }

    /// Settings that were ignored in silence are errors now, named before any data loads, and a
    /// configuration file's option names take effect.
    @Test func settingsAreNeverIgnoredInSilence() throws {
        let work = try temporaryFolder("trust-settings")
        defer { try? FileManager.default.removeItem(at: work) }
        let (device, deviceMessage) = try Self.run(["train", "--device", "9", "--synthetic-count", "60"], in: work)
        #expect(
            device != 0 && deviceMessage.contains("--device 9") && !deviceMessage.contains("synthetic faces"), "\(deviceMessage)")
        let (threads, threadsMessage) = try Self.run(
            ["train", "--synthetic-count", "60"], in: work, environment: ["FACEMINE_THREADS": "abc"])
        #expect(threads != 0 && threadsMessage.contains("FACEMINE_THREADS=abc"), "\(threadsMessage)")
        try Data(#"{"lr": 0.01, "batch-size": 16, "epochs": 1}"#.utf8).write(to: work.appendingPathComponent("c.json"))
        #expect(
            try Self.run(
                ["train", "--config", "c.json", "--synthetic-count", "60", "--threads", "1", "--quiet", "--name", "c"], in: work
            ).0 == 0)
        let resolved = try TrainingConfiguration.load(contentsOf: work.appendingPathComponent("runs/c/config.json").path)
        #expect(resolved.learningRate == 0.01 && resolved.batchSize == 16 && resolved.epochs == 1)
        try Data(#"{"lr": 0.01, "epoch": 3}"#.utf8).write(to: work.appendingPathComponent("typo.json"))
        let (typo, typoMessage) = try Self.run(["train", "--config", "typo.json", "--synthetic-count", "60"], in: work)
        #expect(typo != 0 && typoMessage.contains("typo.json: unknown field epoch; did you mean epochs?"), "\(typoMessage)")
    }

    /// `cv --json` prints the study's results as results.json holds them.
    @Test func cvPrintsItsResultsAsJSON() throws {
        let work = try temporaryFolder("trust-cv-json")
        defer { try? FileManager.default.removeItem(at: work) }
        let (status, output) = try Self.run(
            [
                "cv", "--synthetic-count", "240", "--threads", "1", "--batch-size", "16", "--epochs", "1",
                "--folds", "2", "--name", "j", "--quiet", "--json",
            ], in: work, stdoutOnly: true)
        #expect(status == 0)
        let printed = try JSONDecoder().decode(StudySummary.self, from: Data(output.utf8))
        let stored = try JSONDecoder().decode(
            StudySummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/j/results.json")))
        #expect(printed.unitsDone == 2 && printed.trials[0].confusion == stored.trials[0].confusion)
    }

    /// Hostile values for every numeric option of train, cv and evaluate: each command ends
    /// with a status and at most a line or two of error, never a signal or a backtrace.
    @Test func noOptionValueCrashesACommand() throws {
        let work = try temporaryFolder("trust-fuzz")
        defer { try? FileManager.default.removeItem(at: work) }
        let trainOptions = [
            "--batch-size", "--epochs", "--lr", "--weight-decay", "--dropout", "--momentum", "--warmup-epochs",
            "--sampler-alpha", "--cell-floor", "--cell-cap", "--logit-adjustment", "--posthoc-adjustment",
            "--focal-gamma", "--label-smoothing", "--scale-jitter", "--aspect-jitter", "--erasing", "--mixup",
            "--cutmix", "--ema", "--tta-shift", "--val-split", "--clip-grad-norm", "--patience", "--rebalance-epochs", "--threads",
            "--device", "--synthetic-count", "--seed",
        ]
        let values = ["0", "-1", "-2", "1e309", "nan", "abc", "99999999999999999999"]
        var cases: [[String]] = []
        for option in trainOptions { for value in values { cases.append(["train", option, value]) } }
        for option in ["--folds", "--fold", "--trial", "--threads"] {
            for value in values { cases.append(["cv", option, value]) }
        }
        for option in ["--threads", "--tta-shift"] {
            for value in values { cases.append(["evaluate", "missing.safetensors", option, value]) }
        }
        for option in ["--random", "--repeats", "--folds"] {
            for value in values { cases.append(["tune", option, value, "--synthetic-count", "60"]) }
        }
        for value in values { cases.append(["predict", "missing.safetensors", "x.png", "--top", value]) }
        for option in ["--batch", "--repeats", "--threads"] {
            for value in values {
                cases.append(["bench", "--ops-only", option, value])
            }
        }
        cases.append(["train", "--model", "resnet50"])
        cases.append(["train", "--tta", "twelvecrop"])
        // Values that pass validation must still not crash: tiny runs that finish fast.
        let tiny = ["--synthetic-count", "40", "--batch-size", "8", "--epochs", "1", "--threads", "1", "--quiet"]
        var crashes: [String] = []
        for (i, arguments) in cases.enumerated() {
            let extra =
                arguments[0] == "train" ? tiny + ["--name", "f\(i)"] : arguments[0] == "cv" ? tiny + ["--name", "c\(i)"] : []
            let (status, output) = try Self.run(arguments + extra, in: work)
            let backtrace = output.contains("Backtrace") || output.contains("Fatal error") || output.contains("Crash")
            // 128 + n: killed by signal n (SIGILL 132 from a Swift trap, SIGSEGV 139).
            if status >= 128 || backtrace {
                crashes.append("\(arguments.joined(separator: " ")): status \(status) \(output.prefix(200))")
            }
        }
        #expect(crashes.isEmpty, "\(crashes.count) of \(cases.count) crashed:\n\(crashes.prefix(10).joined(separator: "\n"))")
    }
}
