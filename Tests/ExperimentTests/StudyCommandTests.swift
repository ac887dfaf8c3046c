import FacemineExperiments
import FacemineNN
import FacemineTraining
import Foundation
import Testing

/// `facemine cv`, `tune` and `report` as a user (or a Slurm array) runs them: separate
/// processes sharing one study folder.
@Suite struct StudyCommandTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "facemine")

    static func launch(_ arguments: [String], in folder: URL) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        p.currentDirectoryURL = folder
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    static func run(_ arguments: [String], in folder: URL) throws -> (Int32, String) {
        try runFacemine(arguments, in: folder)
    }

    static let data = [
        "--synthetic-count", "240", "--epochs", "2", "--batch-size", "16", "--augmentation", "none", "--threads", "1",
    ]

    /// `--recipe auto` trains both models plain on two sources, as on one (no recipe has beaten
    /// plain training on real faces: docs/RESULTS.md); a recipe named still applies.
    @Test func theAutoRecipeIsPlainAndANamedRecipeApplies() throws {
        let work = try temporaryFolder("auto-recipe")
        defer { try? FileManager.default.removeItem(at: work) }
        func plan(_ extra: [String], _ name: String) throws -> [Architecture: TrainingConfiguration] {
            // Only the plan matters: one MyCNN fold trains, the plan holds both models.
            let (status, output) = try Self.run(
                ["cv"] + Self.data + extra + [
                    "--model", "mycnn,resnet18", "--folds", "2", "--fold", "0",
                    "--trial", "0", "--name", name, "--quiet",
                ], in: work)
            #expect(status == 0, "\(output)")
            let plan = try JSONDecoder().decode(
                StudyPlan.self, from: Data(contentsOf: work.appendingPathComponent("runs/\(name)/study.json")))
            return Dictionary(uniqueKeysWithValues: plan.trials.map { ($0.configuration.model, $0.configuration) })
        }
        func isPlain(_ c: TrainingConfiguration) -> Bool {
            !c.cellBalancedSampler && c.logitAdjustment == 0 && !c.weightedSampler && c.rebalanceEpochs == 0
                && c.optimizer == .adam
        }
        let two = try plan(["--two-sources"], "two")
        #expect(two.values.allSatisfy(isPlain))
        let one = try plan([], "one")
        #expect(one.values.allSatisfy(isPlain))
        let named = try plan(["--two-sources", "--recipe", "cells"], "named")
        #expect(named.values.allSatisfy { $0.cellBalancedSampler })
    }

    /// A recipe that ends with re-balancing epochs, which `--patience` would skip, or keeps its
    /// last epoch, which `--patience` would not wait for: the refusal names the recipe and the way out.
    @Test func patienceWithAReBalancingRecipeIsRefusedWithTheWayOut() throws {
        let work = try temporaryFolder("recipe-patience")
        defer { try? FileManager.default.removeItem(at: work) }
        let (status, output) = try Self.run(
            ["train"] + Self.data + ["--two-sources", "--recipe", "fer-ck", "--patience", "3", "--quiet"], in: work)
        #expect(status != 0)
        #expect(output.contains("--patience: the recipe fer-ck ends with 4 re-balancing epochs"), "\(output)")
        #expect(output.contains("--rebalance-epochs 0"), "\(output)")

        let (keepsLast, said) = try Self.run(["train"] + Self.data + ["--recipe", "ckplus", "--patience", "3", "--quiet"], in: work)
        #expect(keepsLast != 0)
        #expect(said.contains("--patience: the recipe ckplus keeps the last epoch") && said.contains("--keep best"), "\(said)")
        let (wayOut, done) = try Self.run(
            ["train"] + Self.data + ["--recipe", "ckplus", "--model", "mycnn", "--patience", "3", "--keep", "best", "--quiet"],
            in: work)
        #expect(wayOut == 0, "\(done)")
    }

    /// Folds 0 and 1 run at the same time in two processes, fold 2 in a third; `facemine report`
    /// merges them. Rerunning the whole command then finds everything done and changes nothing.
    @Test func foldsRunAsSeparateProcessesMergeIntoOneReport() throws {
        let work = try temporaryFolder("cv-cli")
        defer { try? FileManager.default.removeItem(at: work) }
        let common = ["cv"] + Self.data + ["--folds", "3", "--name", "shared", "--quiet"]
        let a = try Self.launch(common + ["--fold", "0"], in: work), b = try Self.launch(common + ["--fold", "1"], in: work)
        a.waitUntilExit()
        b.waitUntilExit()
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0)
        let study = work.appendingPathComponent("runs/shared")
        #expect(
            !FileManager.default.fileExists(atPath: study.appendingPathComponent("report.html").path), "incomplete: no report yet"
        )
        let (partial, partialOutput) = try Self.run(["report", study.path], in: work)
        #expect(partial == 0 && partialOutput.contains("2 of 3 units"), "\(partialOutput)")
        let c = try Self.launch(common + ["--fold", "2"], in: work)
        c.waitUntilExit()
        #expect(c.terminationStatus == 0)

        let (status, output) = try Self.run(["report", study.path], in: work)
        #expect(status == 0 && output.contains("| MyCNN | 3/3 |"), "\(output)")
        let summary = try JSONDecoder().decode(
            StudySummary.self, from: Data(contentsOf: study.appendingPathComponent("results.json")))
        #expect(summary.unitsDone == 3 && summary.trials[0].confusion.total == 240)
        for fold in 0..<3 {
            let kept = study.appendingPathComponent("units/trial-0-fold-\(fold).safetensors")
            #expect(throws: Never.self, "fold \(fold)'s best weights are kept") { _ = try SafeTensors(contentsOf: kept) }
        }

        let unit = study.appendingPathComponent("units/trial-0-fold-1.json")
        let before = try Data(contentsOf: unit)
        let (again, againOutput) = try Self.run(Array(common.dropLast()), in: work)
        #expect(again == 0 && againOutput.contains("done before"), "\(againOutput)")
        #expect(try Data(contentsOf: unit) == before, "a finished unit is never run again")

        let (refused, message) = try Self.run(["cv"] + Self.data + ["--folds", "4", "--name", "shared", "--quiet"], in: work)
        #expect(refused != 0 && message.contains("holds a different study (folds: 3 there, 4 here)"), "\(message)")

        // The same study in one process gives the same scores, fold for fold.
        let (whole, wholeOutput) = try Self.run(["cv"] + Self.data + ["--folds", "3", "--name", "whole", "--quiet"], in: work)
        #expect(whole == 0, "\(wholeOutput)")
        let one = try JSONDecoder().decode(
            StudySummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/whole/results.json")))
        #expect(one.trials[0].accuracy.values == summary.trials[0].accuracy.values)
        #expect(one.trials[0].macroF1.values == summary.trials[0].macroF1.values)
        #expect(one.trials[0].confusion == summary.trials[0].confusion)
    }

    /// Killed (SIGKILL) after its first fold finished, a cv run is rerun and finishes without
    /// redoing that fold.
    @Test func aKilledStudyResumesWithoutRedoingFinishedFolds() throws {
        let work = try temporaryFolder("cv-kill")
        defer { try? FileManager.default.removeItem(at: work) }
        let command = ["cv"] + Self.data + ["--folds", "3", "--name", "killed", "--quiet"]
        let p = try Self.launch(command, in: work)
        let first = work.appendingPathComponent("runs/killed/units/trial-0-fold-0.json")
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && !FileManager.default.fileExists(atPath: first.path) && Date() < deadline { usleep(20_000) }
        #expect(p.isRunning, "the run ended before it could be killed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let saved = try Data(contentsOf: first)
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("runs/killed/results.json").path))
        let (status, output) = try Self.run(Array(command.dropLast()), in: work)
        #expect(status == 0 && output.contains("MyCNN, fold 1/3: done before"), "\(output)")
        #expect(try Data(contentsOf: first) == saved, "the finished fold was not run again")
        let summary = try JSONDecoder().decode(
            StudySummary.self, from: Data(contentsOf: work.appendingPathComponent("runs/killed/results.json")))
        #expect(summary.unitsDone == 3)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("runs/killed/units").path)
        #expect(leftovers.filter { $0.hasSuffix(".json") }.count == 3)
    }

    /// A two-trial search on one validation split writes best-config.json, and training from it
    /// uses the winning settings.
    @Test func tuneWritesABestConfigurationThatTrainAccepts() throws {
        let work = try temporaryFolder("tune-cli")
        defer { try? FileManager.default.removeItem(at: work) }
        let (status, output) = try Self.run(
            ["tune"] + Self.data + ["--space", "lr=1e-3,1e-6", "--holdout", "--name", "search"], in: work)
        #expect(status == 0, "\(output)")
        let study = work.appendingPathComponent("runs/search")
        let summary = try JSONDecoder().decode(
            StudySummary.self, from: Data(contentsOf: study.appendingPathComponent("results.json")))
        #expect(summary.trials.count == 2 && summary.ranking.count == 2)
        #expect(
            summary.trials[summary.ranking[0]].macroF1.mean >= summary.trials[summary.ranking[1]].macroF1.mean, "sorted by score")
        let best = try TrainingConfiguration.load(contentsOf: study.appendingPathComponent("best-config.json").path)
        #expect(best == summary.trials[summary.ranking[0]].configuration)

        let (trained, trainOutput) = try Self.run(
            [
                "train", "--config", study.appendingPathComponent("best-config.json").path,
                "--synthetic-count", "240", "--threads", "1", "--quiet", "--name", "final", "--json",
            ], in: work)
        #expect(trained == 0, "\(trainOutput)")
        let metrics =
            try JSONSerialization.jsonObject(with: Data(contentsOf: work.appendingPathComponent("runs/final/metrics.json")))
            as? [String: Any]
        let configuration = metrics?["configuration"] as? [String: Any]
        #expect(
            (configuration?["learningRate"] as? Double).map {
                abs($0 - Double(best.learningRate)) < 1e-6 * Double(best.learningRate)
            } == true)
        #expect(configuration?["epochs"] as? Int == 2, "the file's epochs, no flag overriding it")
    }
}
