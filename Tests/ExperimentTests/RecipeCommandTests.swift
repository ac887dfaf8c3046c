import FacemineBackends
import FacemineData
import FacemineExperiments
import FacemineNN
import FacemineTraining
import Foundation
import Testing

/// The FER-2013 recipe, starting from a checkpoint, and predict agreeing with evaluate, as a
/// user runs them.
@Suite struct RecipeCommandTests {
    static func run(_ arguments: [String], in folder: URL) throws -> (Int32, String) {
        try StudyCommandTests.run(arguments, in: folder)
    }

    /// The configuration a one-fold study plans with `--recipe NAME` and the options given.
    static func plan(_ recipe: String, _ extra: [String], in work: URL) throws -> TrainingConfiguration {
        let (status, output) = try Self.run(
            [
                "cv", "--synthetic-count", "120", "--threads", "1", "--folds", "2", "--fold", "0",
                "--recipe", recipe, "--name", recipe, "--quiet", "--epochs", "1",
                "--batch-size", "16", "--model", "mycnn",
            ] + extra, in: work)
        #expect(status == 0, "\(output)")
        let plan = try JSONDecoder().decode(
            StudyPlan.self, from: Data(contentsOf: work.appendingPathComponent("runs/\(recipe)/study.json")))
        return plan.trials[0].configuration
    }

    /// `--recipe fer2013` sets the whole recipe; a model or option named beside it still wins.
    @Test func theFER2013RecipeSetsTheWholeRecipeAndOptionsWin() throws {
        let work = try temporaryFolder("fer2013-recipe")
        defer { try? FileManager.default.removeItem(at: work) }
        let c = try Self.plan("fer2013", ["--tta", "flip"], in: work)
        #expect(c.model == .mycnn && c.epochs == 1 && c.batchSize == 16 && c.tta == .flip, "named options win")
        #expect(
            c.optimizer == .sgd && c.nesterov && c.stem == .medium && c.augmentation.erasing == 0.25
                && c.labelSmoothing == 0.1 && c.emaDecay == 0.999)
    }

    /// `--recipe fer-ck` is the `fer2013` training with the imagenet stem, mirrored TTA and four
    /// re-balancing epochs; options named beside it still win.
    @Test func theFerCKRecipeIsTheFER2013TrainingWithReBalancingEpochs() throws {
        let work = try temporaryFolder("fer-ck-recipe")
        defer { try? FileManager.default.removeItem(at: work) }
        let c = try Self.plan("fer-ck", ["--rebalance-epochs", "1"], in: work)
        #expect(c.model == .mycnn && c.epochs == 1 && c.batchSize == 16 && c.rebalanceEpochs == 1, "named options win")
        #expect(
            c.optimizer == .sgd && c.nesterov && c.stem == .imagenet && c.augmentation.erasing == 0.25
                && c.labelSmoothing == 0.1 && c.emaDecay == 0.999 && c.tta == .flip)
        let second = work.appendingPathComponent("defaults")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        let defaults = try Self.plan("fer-ck", [], in: second)
        #expect(defaults.rebalanceEpochs == 4)
    }

    /// `--recipe ckplus` sets the CK+ fine-tuning recipe; options named beside it still win.
    @Test func theCKPlusRecipeSetsTheFineTuningRecipeAndOptionsWin() throws {
        let work = try temporaryFolder("ckplus-recipe")
        defer { try? FileManager.default.removeItem(at: work) }
        let c = try Self.plan("ckplus", ["--lr", "0.02"], in: work)
        #expect(c.model == .mycnn && c.epochs == 1 && c.batchSize == 16 && c.learningRate == 0.02, "named options win")
        #expect(c.optimizer == .sgd && c.nesterov && c.weightDecay == 5e-4 && c.weightedSampler && c.augmentation == Augmentation(.standard))
        #expect(c.keep == .last, "a CK+ fold's validation share is too small to choose the epoch by")
    }

    /// Fine-tuning starts from the checkpoint's architecture: `--recipe ckplus` names ResNet-18's
    /// imagenet stem, but a medium-stem checkpoint is fine-tuned with the medium stem (any other
    /// would leave its first layer untrained); a stem named on the command line still wins.
    @Test func fineTuningTakesTheCheckpointsModelAndStem() throws {
        let work = try temporaryFolder("init-architecture")
        defer { try? FileManager.default.removeItem(at: work) }
        let backend = try BackendChoice.cpu.makeBackend(threads: 1).backend
        var config = TrainingConfiguration()
        config.model = .resnet18
        config.stem = .medium
        let model = try config.model.make(backend, stem: config.stem, seed: 1)
        let checkpoint = work.appendingPathComponent("medium.safetensors")
        try Checkpoint.save(
            model: model, optimizer: nil, configuration: config, state: TrainingState(), backend: backend, to: checkpoint)
        func planned(_ extra: [String], name: String) throws -> TrainingConfiguration {
            let (status, output) = try Self.run(
                [
                    "cv", "--synthetic-count", "120", "--threads", "1", "--folds", "2", "--fold", "0", "--recipe", "ckplus",
                    "--init-weights", checkpoint.path, "--name", name, "--quiet", "--epochs", "1", "--batch-size", "16",
                ] + extra, in: work)
            #expect(status == 0, "\(output)")
            let plan = try JSONDecoder().decode(
                StudyPlan.self, from: Data(contentsOf: work.appendingPathComponent("runs/\(name)/study.json")))
            return plan.trials[0].configuration
        }
        let fromCheckpoint = try planned([], name: "follows")
        #expect(fromCheckpoint.model == .resnet18 && fromCheckpoint.stem == .medium && fromCheckpoint.weightedSampler)
        let named = try planned(["--stem", "imagenet"], name: "named")
        #expect(named.stem == .imagenet, "a stem named beside the recipe wins")
    }

    /// A run started from another run's checkpoint says so and starts from its weights: after
    /// one step at a tiny rate its first layer is still the checkpoint's, not a fresh draw.
    /// `predict` then gives the probabilities `evaluate` scores with (post-hoc adjustment and
    /// test-time augmentation included).
    @Test func initWeightsStartFromACheckpointAndPredictAgreesWithEvaluate() throws {
        let work = try temporaryFolder("init-weights")
        defer { try? FileManager.default.removeItem(at: work) }
        let data = ["--synthetic-count", "160", "--threads", "1", "--batch-size", "16", "--augmentation", "none"]
        let (s1, o1) = try Self.run(["train"] + data + ["--epochs", "1", "--name", "base", "--quiet"], in: work)
        #expect(s1 == 0, "\(o1)")
        let base = work.appendingPathComponent("runs/base/last.safetensors").path
        let (s2, o2) = try Self.run(
            ["train"] + data + [
                "--epochs", "1", "--name", "tuned", "--init-weights", base, "--lr", "1e-9",
                "--posthoc-adjustment", "2", "--tta", "flip",
            ], in: work)
        #expect(s2 == 0 && o2.contains("initialised") && o2.contains(base), "\(o2)")
        let start = try SafeTensors(contentsOf: URL(fileURLWithPath: base)).tensors["conv1.weight"]!.floats
        let tuned = try SafeTensors(contentsOf: work.appendingPathComponent("runs/tuned/last.safetensors")).tensors[
            "conv1.weight"]!.floats
        #expect(zip(start, tuned).allSatisfy { abs($0 - $1) < 1e-5 }, "the tuned run started from the checkpoint")

        // Faces as files, so predict reads exactly what evaluate scores.
        let faces = SyntheticFaces(count: 8, seed: 9).generate(threads: 1)
        var paths: [String] = []
        for i in 0..<8 {
            let url = work.appendingPathComponent("face\(i).png")
            try Data(GrayImage.encodePNG(Array(faces.image(i)), width: 48, height: 48)).write(to: url)
            paths.append(url.path)
        }
        let checkpoint = work.appendingPathComponent("runs/tuned/best.safetensors").path
        func predicted(_ extra: [String]) throws -> [[Double]] {
            let (status, output) = try Self.run(["predict", checkpoint] + paths + ["--top", "8", "--json"] + extra, in: work)
            #expect(status == 0, "\(output)")
            struct Row: Decodable { var classes: [String]; var probabilities: [Double] }
            let rows = try JSONDecoder().decode([Row].self, from: Data(output.utf8))
            return rows.map { row in Emotion.allCases.map { e in row.probabilities[row.classes.firstIndex(of: e.name)!] } }
        }
        let withRun = try predicted([]), plain = try predicted(["--tta", "none"])
        #expect(withRun != plain, "predict applies the run's flip TTA unless told otherwise")
        // The same numbers through the library, as evaluate computes them.
        let file = try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint))
        let (config, state) = try Checkpoint.describe(file, location: checkpoint)
        #expect(config.posthocAdjustment == 2 && state.classLogPriors?.count == 8)
        let backend = try BackendChoice.cpu.makeBackend(threads: 1).backend
        let model = try config.model.make(backend, seed: 0)
        try Checkpoint.loadWeights(file, into: model, backend: backend, location: checkpoint)
        let images = (0..<8).flatMap { i in faces.image(i).map { (Float($0) / 255 - 0.5) / 0.5 } }
        let expected = try Predictor(model: model, backend: backend, configuration: config, state: state).probabilities(
            images, count: 8)
        for (i, row) in withRun.enumerated() {
            for c in 0..<8 { #expect(abs(row[c] - expected[i * 8 + c]) < 1e-5, "face \(i) class \(c)") }
        }
    }

    /// `--recipe calibrated` trains plain and chooses the post-hoc tau on the validation faces
    /// each epoch; the best checkpoint keeps the tau chosen for its weights, and `evaluate`
    /// predicts with it: its scores on the validation faces are the best epoch's.
    @Test func theCalibratedRecipeKeepsItsTauAndEvaluateUsesIt() throws {
        let work = try temporaryFolder("calibrated-recipe")
        defer { try? FileManager.default.removeItem(at: work) }
        let data = ["--synthetic-count", "1500", "--two-sources", "--threads", "1"]
        let (s1, o1) = try Self.run(
            ["train"] + data + ["--batch-size", "32", "--epochs", "4", "--recipe", "calibrated", "--name", "c", "--quiet"],
            in: work)
        #expect(s1 == 0, "\(o1)")
        let checkpoint = work.appendingPathComponent("runs/c/best.safetensors").path
        let (config, state) = try Checkpoint.describe(
            try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint)), location: checkpoint)
        #expect(config.calibratePosthoc && config.posthocAdjustment == 0)
        let best = try #require(state.history.last { $0.newBest == true })
        let tau = try #require(state.posthocAdjustment)
        #expect(tau > 0, "on these faces the rare classes need an adjustment, so the test can see it carried")
        #expect(best.posthocAdjustment == tau && state.history.allSatisfy { $0.posthocAdjustment != nil })
        let (s2, o2) = try runFacemine(["evaluate", checkpoint] + data + ["--json"], in: work, stdoutOnly: true)
        #expect(s2 == 0, "\(o2)")
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(o2.utf8))
        let validation = try #require(best.validation)
        #expect(
            report.confusion == validation.confusion && abs(report.macroF1 - validation.macroF1) < 1e-12,
            "evaluate predicts with the tau chosen for these weights (\(tau))")
        // Both scored each face over its source's classes, and evaluate says which it left out.
        #expect(state.sourceClasses?.classes["synthetic-wild"] == Array(0..<7))
        let (s3, o3) = try runFacemine(["evaluate", checkpoint] + data, in: work, stdoutOnly: true)
        #expect(s3 == 0 && o3.contains("each face scored over its source's classes in the training faces: synthetic-wild without contempt"), "\(o3)")
    }
}
