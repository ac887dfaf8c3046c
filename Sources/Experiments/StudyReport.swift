import FacemineData
import FacemineTraining
import Foundation

/// Writes a study's `results.json` (the merged summary), `report.md` and a self-contained
/// `report.html` (tables and inline SVG charts: learning curves per fold, confusion heatmaps,
/// per-class F1 with the fold spread, class distribution, configurations and timings), plus each
/// chart as `charts/*.svg` for the Markdown report. Every file is written atomically.
public enum StudyReport {
    @discardableResult
    public static func write(plan: StudyPlan, results: [UnitResult], to folder: StudyFolder) throws -> StudySummary {
        let summary = StudySummary(plan: plan, results: results)
        try RunFiles.writeJSON(summary, to: folder.url.appendingPathComponent("results.json"))
        let charts = makeCharts(summary, results)
        for (name, svg) in charts { try writeText(svg, folder.url.appendingPathComponent("charts/\(name).svg")) }
        try writeText(markdown(summary, results, charts: charts.map(\.0)), folder.url.appendingPathComponent("report.md"))
        try writeText(html(summary, results, charts: charts), folder.url.appendingPathComponent("report.html"))
        return summary
    }

    static func writeText(_ text: String, _ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw DataError(url.path, "cannot write the file (\(systemReason(error))); the previous version is untouched")
        }
    }

    /// The trials the pictures show: every model of a cross-validation, the best of a search.
    static func shown(_ s: StudySummary) -> [Int] {
        s.kind == .tuning ? Array(s.ranking.prefix(1)) : s.trials.map(\.index)
    }

    static func title(_ s: StudySummary) -> String {
        let how = s.holdOut ? "one fixed validation split" : "\(s.folds)-fold cross-validation"
        return s.kind == .tuning
            ? "Hyper-parameter search: \(s.trials.count) trials, \(how)"
            : "\(s.trials.map(\.label).joined(separator: " vs ")): \(how)"
    }

    static func makeCharts(_ s: StudySummary, _ results: [UnitResult]) -> [(String, String)] {
        var charts: [(String, String)] = []
        let names = (0..<s.trials[0].confusion.classes).map { Emotion(rawValue: $0)?.name ?? "\($0)" }
        for t in shown(s) {
            let trial = s.trials[t]
            let units = results.filter { $0.trial == t }.sorted { $0.fold < $1.fold }
            guard !units.isEmpty else { continue }
            let tag = "trial\(t)"
            let label = trial.label
            var lossSeries: [(String, [Double])] = []
            var accuracy: [(String, [Double])] = [], macro: [(String, [Double])] = []
            for u in units {
                lossSeries.append(("fold \(u.fold) train", u.history.map(\.trainLoss)))
                lossSeries.append(("fold \(u.fold) val", u.history.map { $0.validation?.loss ?? .nan }))
                accuracy.append(("fold \(u.fold) train", u.history.map(\.trainAccuracy)))
                accuracy.append(("fold \(u.fold) val", u.history.map { $0.validation?.accuracy ?? .nan }))
                macro.append(("fold \(u.fold)", u.history.map { $0.validation?.macroF1 ?? .nan }))
            }
            charts.append(
                (
                    "\(tag)-loss",
                    Charts.lines(
                        title: "\(label): loss (dashed: validation)", yLabel: "cross-entropy",
                        series: lossSeries, pairs: true)
                ))
            charts.append(
                (
                    "\(tag)-accuracy",
                    Charts.lines(
                        title: "\(label): accuracy (dashed: validation)", yLabel: "accuracy",
                        series: accuracy, pairs: true)
                ))
            charts.append(
                ("\(tag)-macro-f1", Charts.lines(title: "\(label): validation macro-F1", yLabel: "macro-F1", series: macro)))
            charts.append(
                (
                    "\(tag)-confusion",
                    Charts.heatmap(
                        title: "\(label): confusion, summed over folds", counts: trial.confusion.counts,
                        names: names, normalised: false)
                ))
            charts.append(
                (
                    "\(tag)-confusion-normalised",
                    Charts.heatmap(
                        title: "\(label): confusion, rows normalised",
                        counts: trial.confusion.counts, names: names, normalised: true)
                ))
        }
        let shownTrials = (s.kind == .tuning ? Array(s.ranking.prefix(3)) : s.trials.map(\.index)).filter {
            s.trials[$0].foldsDone > 0
        }
        charts.append(
            (
                "per-class-f1",
                Charts.bars(
                    title: "F1 per class (mean ± std over folds)", yLabel: "F1 on the held-out folds",
                    categories: names, series: shownTrials.map { (s.trials[$0].label, s.trials[$0].perClassF1) },
                    maxY: 1)
            ))
        let supports = (0..<names.count).map { c in Spread([Double(s.trials[shownTrials.first ?? 0].confusion.support(c))]) }
        charts.append(
            (
                "class-distribution",
                Charts.bars(
                    title: "Faces per class in the scored folds", yLabel: "faces",
                    categories: names, series: [("faces", supports)])
            ))
        return charts
    }

    static let epochChoiceTitle = "The best epoch or the last"
    static let epochChoiceNote =
        "Each fold scores the weights of its best epoch on the inner validation share. The same folds scored with "
        + "their last epoch's weights show whether that choice paid; the last epoch's scores are not used to choose anything. "
        + "A trial whose best epoch was its last in every fold is left out: it scored the same weights twice."

    static func unitTable(_ results: [UnitResult]) -> String {
        var lines = [
            "| trial | fold | train / val / test faces | epochs run | best epoch | test accuracy | test macro-F1 | last epoch's macro-F1 | minutes | backend | device |",
            "|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for r in results.sorted(by: { ($0.trial, $0.fold) < ($1.trial, $1.fold) }) {
            lines.append(
                "| \(r.trial) | \(r.fold) | \(r.trainFaces) / \(r.validationFaces) / \(r.testFaces) | \(r.history.count) | \(r.bestEpoch) | "
                    + String(format: "%.3f | %.3f | ", r.test.accuracy, r.test.macroF1)
                    + (r.lastEpochScores.map { String(format: "%.3f", $0.macroF1) } ?? "-")
                    + String(format: " | %.1f", r.seconds / 60)
                    + " | \(r.backend) | \(r.device) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func header(_ s: StudySummary) -> String {
        var text = "Data: \(s.data) (\(s.faces) faces). Units finished: \(s.unitsDone) of \(s.unitsPlanned)"
        if s.unitsDone < s.unitsPlanned {
            text += " (rerun the command, or run the missing --fold/--trial units, then `facemine report`)"
        }
        text +=
            ". Backends: \(s.backends.joined(separator: ", ")). Scores are on folds the model never trained on; "
            + "± is the sample standard deviation over folds."
        return text
    }

    static func configurationJSON(_ c: TrainingConfiguration) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? String(decoding: encoder.encode(c), as: UTF8.self)) ?? ""
    }

    static func markdown(_ s: StudySummary, _ results: [UnitResult], charts: [String]) -> String {
        var md = [
            "# \(title(s))", "", header(s), "", "## Results", "", s.resultsTable, "## F1 per class", "", s.perClassTable,
            "## Recall per class", "", s.perClassRecallTable,
        ]
        if !s.epochChoiceTable.isEmpty { md += ["## \(epochChoiceTitle)", "", epochChoiceNote, "", s.epochChoiceTable] }
        md += ["## Charts", ""] + charts.map { "![\($0)](charts/\($0).svg)" } + [""]
        md += ["## Units", "", unitTable(results)]
        md += ["## Configurations", ""]
        for t in shown(s) {
            md += ["### \(s.trials[t].label)", "", "```json", configurationJSON(s.trials[t].configuration), "```", ""]
        }
        return md.joined(separator: "\n")
    }

    static func html(_ s: StudySummary, _ results: [UnitResult], charts: [(String, String)]) -> String {
        func table(_ markdown: String) -> String { ExploratoryReport.markdownTableToHTML(markdown) }
        var body = [
            "<h1>\(Charts.escape(title(s)))</h1>", "<p>\(Charts.escape(header(s)))</p>",
            "<h2>Results</h2>", table(s.resultsTable), "<h2>F1 per class</h2>", table(s.perClassTable),
            "<h2>Recall per class</h2>", table(s.perClassRecallTable),
        ]
        if !s.epochChoiceTable.isEmpty {
            body += ["<h2>\(epochChoiceTitle)</h2>", "<p>\(epochChoiceNote)</p>", table(s.epochChoiceTable)]
        }
        body.append("<h2>Charts</h2>")
        var section = ""
        for (name, svg) in charts {
            // Charts come trial by trial ("trialN-..."), then the ones comparing trials.
            let trial = name.hasPrefix("trial") ? Int(name.dropFirst(5).prefix { $0.isNumber }) : nil
            let heading =
                trial.map { s.trials[$0].label }
                ?? (s.trials.count > 1 ? "All \(s.kind == .tuning ? "top trials" : "models")" : "Per class")
            if heading != section {
                body.append("<h3>\(Charts.escape(heading))</h3>")
                section = heading
            }
            body.append("<figure id=\"\(name)\">\(svg)</figure>")
        }
        body += ["<h2>Units</h2>", table(unitTable(results)), "<h2>Configurations</h2>"]
        for t in shown(s) {
            body.append(
                "<h3>\(Charts.escape(s.trials[t].label))</h3><pre>\(Charts.escape(configurationJSON(s.trials[t].configuration)))</pre>"
            )
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(Charts.escape(title(s)))</title>
            <style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
            td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:6px}pre{background:#f6f6f6;padding:8px}</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }
}
