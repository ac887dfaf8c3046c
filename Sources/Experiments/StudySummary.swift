import FacemineData
import FacemineTraining
import Foundation

/// Mean and spread of a score over folds. `std` is the sample standard deviation (n - 1), 0
/// for a single fold.
public struct Spread: Codable, Equatable, Sendable {
    public var mean: Double
    public var std: Double
    public var values: [Double]

    public init(_ values: [Double]) {
        self.values = values
        mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        let m = mean
        std = values.count < 2 ? 0 : (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }

    public var text: String { String(format: "%.3f ± %.3f", mean, std) }
}

/// A study's results, merged from its unit files: per trial the scores on the held-out folds,
/// their mean and spread, per-class F1, and the confusion matrix summed over folds. What
/// `results.json` holds and the reports show.
public struct StudySummary: Codable, Equatable, Sendable {
    public struct TrialSummary: Codable, Equatable, Sendable {
        public var index: Int
        public var label: String
        public var configuration: TrainingConfiguration
        public var foldsDone: Int
        public var folds: Int
        public var accuracy: Spread
        public var macroF1: Spread
        public var weightedF1: Spread
        public var worstRecall: Spread
        /// One per class, in label order.
        public var perClassF1: [Spread]
        public var perClassRecall: [Spread]
        /// Macro-F1 on each data source's faces alone, when there is more than one source.
        public var perSourceMacroF1: [String: Spread]
        public var confusion: ConfusionMatrix
        public var trainSeconds: Double
        /// The same scores with each fold's last epoch instead of its best one (nil when a
        /// unit predates them; the scores above when every fold kept its last epoch): what
        /// choosing the epoch on the inner validation share bought.
        public var lastEpoch: EpochScores?
        public var complete: Bool { foldsDone == folds }
    }

    /// Held-out scores over folds of the last epoch's weights.
    public struct EpochScores: Codable, Equatable, Sendable {
        public var accuracy: Spread
        public var macroF1: Spread
        public var worstRecall: Spread
        /// Folds whose best epoch came before their last: only these scored other weights than
        /// the study's; with none, these scores are the study's own.
        public var foldsBestEarlier: Int

        init?(_ results: [UnitResult]) {
            let known = results.compactMap(\.lastEpochScores)
            guard !known.isEmpty, known.count == results.count else { return nil }
            accuracy = Spread(known.map(\.accuracy))
            macroF1 = Spread(known.map(\.macroF1))
            worstRecall = Spread(known.map(\.worstRecall))
            foldsBestEarlier = results.filter { $0.bestEpoch < $0.history.count }.count
        }
    }

    public var kind: StudyPlan.Kind
    public var data: String
    public var faces: Int
    public var folds: Int
    public var holdOut: Bool
    public var trials: [TrialSummary]
    /// Trial indices by mean macro-F1, best first (complete trials before incomplete ones).
    public var ranking: [Int]
    public var backends: [String]
    public var devices: [String]
    public var unitsDone: Int
    public var unitsPlanned: Int

    public init(plan: StudyPlan, results: [UnitResult]) {
        kind = plan.kind
        data = plan.data
        faces = plan.faces
        folds = plan.folds
        holdOut = plan.holdOut
        unitsDone = results.count
        unitsPlanned = plan.units.count
        backends = Array(Set(results.map(\.backend))).sorted()
        devices = Array(Set(results.map(\.device))).sorted()
        trials = plan.trials.enumerated().map { index, trial in
            let mine = results.filter { $0.trial == index }.sorted { $0.fold < $1.fold }
            var confusion = ConfusionMatrix()
            for r in mine { confusion.merge(r.test.confusion) }
            return TrialSummary(
                index: index, label: trial.label, configuration: trial.configuration,
                foldsDone: mine.count, folds: plan.folds,
                accuracy: Spread(mine.map(\.test.accuracy)), macroF1: Spread(mine.map(\.test.macroF1)),
                weightedF1: Spread(mine.map(\.test.weightedF1)), worstRecall: Spread(mine.map(\.test.worstRecall)),
                perClassF1: (0..<Emotion.count).map { c in Spread(mine.map { $0.test.perClass[c].f1 }) },
                perClassRecall: (0..<Emotion.count).map { c in Spread(mine.map { $0.test.perClass[c].recall }) },
                perSourceMacroF1: Dictionary(grouping: mine.flatMap { $0.test.perSource ?? [] }, by: \.source).mapValues {
                    Spread($0.map(\.macroF1))
                },
                confusion: confusion, trainSeconds: mine.reduce(0) { $0 + $1.seconds },
                lastEpoch: EpochScores(mine))
        }
        ranking = trials.sorted { a, b in
            a.complete != b.complete
                ? a.complete : (a.macroF1.mean != b.macroF1.mean ? a.macroF1.mean > b.macroF1.mean : a.index < b.index)
        }.map(\.index)
    }

    /// The seed project's results table: one row per trial with mean ± std over folds.
    public var resultsTable: String {
        let sources = Array(Set(trials.flatMap { $0.perSourceMacroF1.keys })).sorted()
        let unit = holdOut ? (folds > 1 ? "seeds" : "runs") : "folds"
        var lines = [
            "| \(kind == .tuning ? "trial" : "model") | \(unit) | accuracy | macro-F1 | weighted-F1 | worst recall | "
                + sources.map { "macro-F1 \($0)" }.joined(separator: " | ") + (sources.isEmpty ? "" : " | ") + "minutes |",
            "|---|---:|---:|---:|---:|---:|" + String(repeating: "---:|", count: sources.count) + "---:|",
        ]
        for i in (kind == .tuning ? ranking : trials.map(\.index)) {
            let t = trials[i]
            lines.append(
                "| \(t.label) | \(t.foldsDone)/\(t.folds) | \(t.accuracy.text) | \(t.macroF1.text) | \(t.weightedF1.text) | "
                    + "\(t.worstRecall.text) | "
                    + sources.map { (t.perSourceMacroF1[$0] ?? Spread([])).text }.joined(separator: " | ")
                    + (sources.isEmpty ? "" : " | ") + "\(String(format: "%.1f", t.trainSeconds / 60)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Each trial's held-out scores with the best epoch's weights (what the study reports) and
    /// with the last epoch's, so a reader sees whether the inner validation share chose well.
    /// A trial whose every fold's best epoch was its last is left out (its two rows would be the
    /// same weights); empty when no trial is left.
    public var epochChoiceTable: String {
        let known = trials.compactMap { t in t.lastEpoch.map { (t, $0) } }.filter { $0.1.foldsBestEarlier > 0 }
        guard !known.isEmpty else { return "" }
        var lines = [
            "| \(kind == .tuning ? "trial" : "model") | weights | accuracy | macro-F1 | worst recall |",
            "|---|---|---:|---:|---:|",
        ]
        for (t, last) in known {
            let best = "best epoch (scored; before the last in \(last.foldsBestEarlier) of \(t.foldsDone) folds)"
            lines.append("| \(t.label) | \(best) | \(t.accuracy.text) | \(t.macroF1.text) | \(t.worstRecall.text) |")
            lines.append("| \(t.label) | last epoch | \(last.accuracy.text) | \(last.macroF1.text) | \(last.worstRecall.text) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Per-class F1 (mean ± std over folds), one column per trial.
    public var perClassTable: String { perClass(\.perClassF1) }
    /// Per-class recall (mean ± std over folds), one column per trial.
    public var perClassRecallTable: String { perClass(\.perClassRecall) }

    func perClass(_ scores: KeyPath<TrialSummary, [Spread]>) -> String {
        let shown = kind == .tuning ? Array(ranking.prefix(3)) : trials.map(\.index)
        var lines = [
            "| class | " + shown.map { trials[$0].label }.joined(separator: " | ") + " |",
            "|---|" + shown.map { _ in "---:" }.joined(separator: "|") + "|",
        ]
        for e in Emotion.allCases {
            lines.append(
                "| \(e.name) | " + shown.map { trials[$0][keyPath: scores][e.rawValue].text }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
