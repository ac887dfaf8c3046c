import FacemineBackends
import FacemineData
import FacemineExperiments
import FacemineTraining
import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import Testing

/// Reads every chart of a report back: each inline `<svg>` must parse as XML, and its marks
/// (`class` attributes) are counted.
final class SVGCensus: NSObject, XMLParserDelegate {
    var marks: [String: Int] = [:]
    var titles: [String] = []
    private var inTitle = false, depth = 0

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if let c = attributes["class"] { marks[c, default: 0] += 1 }
        if name == "title" { inTitle = true; titles.append("") }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inTitle { titles[titles.count - 1] += string } }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "title" { inTitle = false }
    }

    /// Parses every `<svg>...</svg>` in `html`; returns how many parsed.
    static func read(_ html: String) throws -> (charts: Int, census: SVGCensus) {
        let census = SVGCensus()
        var charts = 0
        var rest = html[...]
        while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            let parser = XMLParser(data: Data(rest[start.lowerBound..<end.upperBound].utf8))
            parser.delegate = census
            #expect(parser.parse(), "chart \(charts) is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
            charts += 1
            rest = rest[end.upperBound...]
        }
        return (charts, census)
    }
}

func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct StudyTests {
    static func tinyConfiguration() -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = 2
        c.batchSize = 16
        c.augmentation = .none
        c.earlyStoppingPatience = 3
        return c
    }

    /// Cross-validation in process: three folds of MyCNN on 300 synthetic faces (ten
    /// identities, each kept inside one fold), then the report, read back.
    @Test func crossValidationScoresEveryFoldAndReportsThem() throws {
        let work = try temporaryFolder("cv")
        defer { try? FileManager.default.removeItem(at: work) }
        let faces = SyntheticFaces(count: 300, seed: 4).generate(threads: 2)
        let plan = StudyPlan(
            kind: .crossValidation, trials: [.init(label: "MyCNN", configuration: Self.tinyConfiguration())],
            folds: 3, holdOut: false, data: "synthetic", faces: faces.count, seed: 4)
        let folder = StudyFolder(work)
        try folder.prepare(plan)
        let runner = StudyRunner(plan: plan, folder: folder, dataset: faces) {
            try BackendChoice.cpu.makeBackend(threads: 2).backend
        }
        var tested = Set<Int>()
        for unit in plan.units {
            let (train, validation, test) = runner.split(unit)
            #expect(
                Set(train).isDisjoint(with: test) && Set(validation).isDisjoint(with: test)
                    && Set(train).isDisjoint(with: validation))
            let groups = { (ids: [Int]) in Set(ids.compactMap { faces.records[$0].group }) }
            #expect(groups(test).isDisjoint(with: groups(train)), "an identity is split between training and the scored fold")
            tested.formUnion(test)
            let result = try runner.run(unit)
            #expect(result.testFaces == test.count && result.test.confusion.total == test.count)
            #expect(FileManager.default.fileExists(atPath: folder.unitsURL.appendingPathComponent(unit.fileName).path))
        }
        #expect(tested.count == faces.count, "the folds together score every face once")
        let results = try folder.results(plan)
        let summary = try StudyReport.write(plan: plan, results: results, to: folder)
        let trial = summary.trials[0]
        #expect(trial.foldsDone == 3 && trial.confusion.total == faces.count)
        let mean = results.map(\.test.macroF1).reduce(0, +) / 3
        #expect(abs(trial.macroF1.mean - mean) < 1e-12 && trial.macroF1.values.count == 3)

        let decoded = try JSONDecoder().decode(
            StudySummary.self, from: Data(contentsOf: work.appendingPathComponent("results.json")))
        #expect(decoded == summary)
        let html = try String(contentsOf: work.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && !html.contains("http://") || html.contains("http://www.w3.org/2000/svg"))
        #expect(!html.contains("<script") && !html.contains("src=\"http"), "self-contained: no scripts, nothing fetched")
        let (charts, census) = try SVGCensus.read(html)
        #expect(charts == 7, "loss, accuracy, macro-F1, two heatmaps, per-class F1, class distribution")
        #expect(census.marks["cell"] == 2 * 64, "two 8x8 heatmaps")
        #expect(census.marks["scale"] == 2 * 10, "each heatmap has its colour scale")
        #expect(
            census.marks["column"] == 2 * 8 && html.contains(">happiness</text>") && html.contains(">contempt</text>"),
            "full class names under the columns")
        #expect(census.marks["point"] == (3 * 2 + 3 * 2 + 3) * 2, "two-epoch runs show their points, not only lines")
        #expect(
            census.marks["series"] == 3 * 2 + 3 * 2 + 3, "train and validation per fold for loss and accuracy, macro-F1 per fold")
        #expect(census.marks["bar"] == 8 + 8, "per-class F1 and class distribution")
        #expect(census.titles.contains { $0.contains("confusion, rows normalised") })
        let markdown = try String(contentsOf: work.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("| MyCNN | 3/3 |") && markdown.contains("![per-class-f1](charts/per-class-f1.svg)"))
    }

    /// Three folds of MyCNN on 300 synthetic faces with the configuration `c`, every fold run:
    /// what the tests of which epoch a fold is scored with share.
    struct ThreeFolds {
        let faces = SyntheticFaces(count: 300, seed: 4).generate(threads: 2)
        let plan: StudyPlan
        let folder: StudyFolder
        let runner: StudyRunner
        let results: [UnitResult]
        static let backend = { try BackendChoice.cpu.makeBackend(threads: 2).backend }

        init(_ c: TrainingConfiguration, in work: URL) throws {
            plan = StudyPlan(
                kind: .crossValidation, trials: [.init(label: "MyCNN", configuration: c)],
                folds: 3, holdOut: false, data: "synthetic", faces: faces.count, seed: 4)
            folder = StudyFolder(work)
            try folder.prepare(plan)
            let runner = StudyRunner(plan: plan, folder: folder, dataset: faces, makeBackend: Self.backend)
            results = try plan.units.map { try runner.run($0) }
            self.runner = runner
        }

        /// A plain run of `c` on fold `k`'s training faces to its end, scored on the fold.
        func plainRunScores(_ c: TrainingConfiguration, fold k: Int) throws -> EvaluationReport {
            let (train, validation, test) = runner.split(plan.units[k])
            let plain = try Trainer(
                configuration: c, backend: Self.backend(), dataset: faces, trainIndices: train, validationIndices: validation)
            _ = try plain.run { _ in }
            return try plain.evaluate(test).0
        }
    }

    /// A fold whose best epoch is not its last also scores the last epoch's weights, exactly as
    /// a plain run of the same training to the end scores the same held-out faces; the summary
    /// and the report set both side by side.
    @Test func aFoldAlsoScoresItsLastEpochWhenTheBestCameEarlier() throws {
        let work = try temporaryFolder("last-epoch")
        defer { try? FileManager.default.removeItem(at: work) }
        var c = Self.tinyConfiguration()
        c.epochs = 5
        c.learningRate = 0.01
        let study = try ThreeFolds(c, in: work)
        let results = study.results
        let early = try #require(results.first { $0.bestEpoch < $0.history.count }, "no fold chose an earlier epoch")
        for r in results {
            #expect((r.lastEpochTest != nil) == (r.bestEpoch < r.history.count))
            #expect(r.lastEpochScores == (r.lastEpochTest ?? r.test))
        }
        #expect(try study.plainRunScores(c, fold: early.fold) == early.lastEpochTest, "the last epoch's weights, scored on the fold")

        let summary = try StudyReport.write(plan: study.plan, results: results, to: study.folder)
        let last = try #require(summary.trials[0].lastEpoch)
        #expect(last.macroF1.values == results.map { $0.lastEpochScores!.macroF1 })
        #expect(summary.trials[0].macroF1.values == results.map(\.test.macroF1))
        let markdown = try String(contentsOf: work.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("## The best epoch or the last") && markdown.contains("| MyCNN | last epoch | \(last.accuracy.text) |"))
        let earlier = results.filter { $0.bestEpoch < $0.history.count }.count
        #expect(last.foldsBestEarlier == earlier && markdown.contains("before the last in \(earlier) of 3 folds) |"))

        // The same folds had each chosen its last epoch: the scores stay, the table has nothing to set apart.
        let allLast = results.map { r in
            var r = r
            r.bestEpoch = r.history.count
            r.lastEpochTest = nil
            return r
        }
        let same = StudySummary(plan: study.plan, results: allLast)
        #expect(same.trials[0].lastEpoch?.foldsBestEarlier == 0 && same.trials[0].lastEpoch?.macroF1 == same.trials[0].macroF1)
        #expect(same.epochChoiceTable.isEmpty && !summary.epochChoiceTable.isEmpty)
    }

    /// A study whose trial keeps its last epoch (`--keep last`, the `ckplus` recipe) scores each
    /// fold with the weights of the end of training, as a plain run to the end scores them, and
    /// has no best-or-last comparison to show.
    @Test func aFoldThatKeepsItsLastEpochIsScoredWithIt() throws {
        let work = try temporaryFolder("keep-last")
        defer { try? FileManager.default.removeItem(at: work) }
        var c = Self.tinyConfiguration()
        c.epochs = 3
        c.learningRate = 0.01
        c.earlyStoppingPatience = 0
        c.keep = .last
        let study = try ThreeFolds(c, in: work)
        #expect(study.results.allSatisfy { $0.bestEpoch == 3 && $0.lastEpochTest == nil })
        c.keep = .best
        #expect(try study.plainRunScores(c, fold: 1) == study.results[1].test, "the last epoch's weights, scored on the fold")
        let summary = try StudyReport.write(plan: study.plan, results: study.results, to: study.folder)
        let last = try #require(summary.trials[0].lastEpoch)
        #expect(last.foldsBestEarlier == 0 && last.accuracy == summary.trials[0].accuracy && summary.epochChoiceTable.isEmpty)
    }

    @Test func aStudyFolderRefusesADifferentPlan() throws {
        let work = try temporaryFolder("plan")
        defer { try? FileManager.default.removeItem(at: work) }
        let plan = StudyPlan(
            kind: .crossValidation, trials: [.init(label: "MyCNN", configuration: Self.tinyConfiguration())],
            folds: 3, holdOut: false, data: "synthetic", faces: 300, seed: 4)
        let folder = StudyFolder(work)
        try folder.prepare(plan)
        try folder.prepare(plan)  // the same plan continues
        var other = plan
        other.folds = 5
        #expect(throws: DataError.self) { try folder.prepare(other) }
    }

    @Test func searchSpacesExpandToGridsAndRandomDraws() throws {
        let space = try SearchSpace(parsing: ["lr=1e-3,3e-4", "optimizer=adam,sgd", "sampler=off,on"])
        #expect(space.combinationCount == 8)
        let grid = try space.trials(base: TrainingConfiguration(), random: nil, seed: 1)
        #expect(grid.count == 8 && Set(grid.map(\.label)).count == 8)
        #expect(
            grid.contains {
                $0.configuration.learningRate == 3e-4 && $0.configuration.optimizer == .sgd && $0.configuration.weightedSampler
            })
        let draw = try space.trials(base: TrainingConfiguration(), random: 3, seed: 1)
        #expect(
            draw.count == 3 && Set(draw.map(\.label)).count == 3 && draw.allSatisfy { t in grid.contains { $0.label == t.label } }
        )
        #expect(
            try space.trials(base: TrainingConfiguration(), random: 3, seed: 1).map(\.label) == draw.map(\.label),
            "deterministic by seed")
        for bad in ["lr=fast", "momentum=0.9", "batch-size=1", "dropout=1.5", "sampler=maybe", "lr"] {
            #expect(throws: DataError.self, "\(bad)") { try SearchSpace(parsing: [bad]) }
        }
    }

    @Test func configurationFilesNameTheFieldThatIsWrong() throws {
        func load(_ json: String) throws -> TrainingConfiguration {
            try TrainingConfiguration.load(Data(json.utf8), name: "c.json")
        }
        let partial = try load(#"{"model": "resnet18", "learningRate": 0.0003}"#)
        #expect(
            partial.model == .resnet18 && partial.learningRate == 3e-4 && partial.batchSize == 64,
            "missing fields keep their defaults")
        for (json, words) in [
            (#"{"batchSize": 0}"#, "batchSize 0"), (#"{"learningRate": "fast"}"#, "field learningRate"),
            (#"{"model": "vgg"}"#, "field model"), (#"{"dropout": 1.5}"#, "dropout 1.5"),
            (#"{"augmentation": {"cropPadding": -3}}"#, "cropPadding -3"), ("{not json", "not valid JSON"),
        ] {
            do {
                _ = try load(json)
                Issue.record("\(json) was accepted")
            } catch {
                #expect("\(error)".contains("c.json") && "\(error)".contains(words), "\(json): \(error)")
            }
        }
    }
    /// The command-line names work as keys; an unknown key is refused with the closest one.
    @Test func configurationFilesTakeOptionNamesAndRefuseUnknownKeys() throws {
        func load(_ json: String) throws -> TrainingConfiguration {
            try TrainingConfiguration.load(Data(json.utf8), name: "c.json")
        }
        let c = try load(
            #"{"lr": 0.01, "batch-size": 32, "nesterov": true, "optimizer": "sgd", "augmentation": "standard", "erasing": 0.5, "tta": "flip", "val-split": 0.2}"#
        )
        #expect(c.learningRate == 0.01 && c.batchSize == 32 && c.nesterov && c.optimizer == .sgd && c.tta == .flip)
        #expect(c.augmentation.rotationDegrees == 10 && c.augmentation.erasing == 0.5 && c.validationFraction == 0.2)
        for (json, words) in [
            (#"{"lrate": 0.01}"#, "unknown field lrate; did you mean lr?"),
            (#"{"batchsize": 8}"#, "did you mean batchSize?"),
            (#"{"augmentation": {"flips": true}}"#, "unknown field augmentation.flips; did you mean flip?"),
            (#"{"zzzzzzzz": 1}"#, "unknown field zzzzzzzz (known fields"),
            (#"{"augmentation": "heavy"}"#, "'heavy' is not one of none, light, standard"),
        ] {
            do {
                _ = try load(json)
                Issue.record("\(json) was accepted")
            } catch {
                #expect("\(error)".contains("c.json") && "\(error)".contains(words), "\(json): \(error)")
            }
        }
    }
}

@Suite struct StudyExtensionTests {
    @Test func appendingTrialsExtendsAStudyAndAnythingElseIsRefused() throws {
        let work = try temporaryFolder("extend")
        defer { try? FileManager.default.removeItem(at: work) }
        let one = StudyPlan.Trial(label: "a", configuration: TrainingConfiguration())
        var other = TrainingConfiguration()
        other.learningRate = 3e-4
        let two = StudyPlan.Trial(label: "b", configuration: other)
        let plan = StudyPlan(kind: .tuning, trials: [one], folds: 2, holdOut: true, data: "d", faces: 10, seed: 0)
        let folder = StudyFolder(work)
        try folder.prepare(plan)
        var longer = plan
        longer.trials = [one, two]
        try folder.prepare(longer)
        #expect(try folder.readPlan() == longer)
        var reordered = plan
        reordered.trials = [two, one]
        #expect(throws: DataError.self) { try folder.prepare(reordered) }
        #expect(throws: DataError.self) { try folder.prepare(plan) }  // dropping a trial is not extending
    }
}
