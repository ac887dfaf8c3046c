import FacemineData
import FacemineTraining
import Foundation

/// The end-of-run tables printed on stdout.
enum ReportTables {
    static func scores(_ r: EvaluationReport) -> String {
        String(
            format: "validation: accuracy %.3f  macro-F1 %.3f  weighted-F1 %.3f  worst recall %.3f  loss %.4f\n",
            r.accuracy, r.macroF1, r.weightedF1, r.worstRecall, r.loss)
    }

    /// Each source alone, and where each source's faces went: the share predicted as each class
    /// (a model that learned "lab look -> contempt" shows it in the lab row).
    static func perSource(_ r: EvaluationReport) -> String {
        guard let sources = r.perSource else { return "" }
        var lines = [
            "source          faces  accuracy  macro-F1  worst recall   predicted as (share): "
                + Emotion.allCases.map { String($0.name.prefix(5)) }.joined(separator: " ")
        ]
        for s in sources {
            let predicted = (0..<s.confusion.classes).map { p in
                (0..<s.confusion.classes).reduce(0) { $0 + s.confusion.counts[$1][p] }
            }
            let shares = predicted.map { String(format: "%5.2f", Double($0) / Double(max(s.faces, 1))) }.joined(separator: " ")
            lines.append(
                s.source.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + String(format: "  %5d  %8.3f  %8.3f  %12.3f   ", s.faces, s.accuracy, s.macroF1, s.worstRecall)
                    + String(repeating: " ", count: 22) + shares)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func perClass(_ r: EvaluationReport) -> String {
        var lines = ["class       precision  recall    F1  support"]
        for c in r.perClass {
            lines.append(
                c.name.padding(toLength: 11, withPad: " ", startingAt: 0)
                    + String(format: "  %8.3f  %6.3f  %5.3f  %7d", c.precision, c.recall, c.f1, c.support))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Rows are true classes, columns predictions.
    static func confusion(_ m: ConfusionMatrix) -> String {
        let names = Emotion.allCases.map { String($0.name.prefix(5)) }
        var lines = [
            "confusion (rows: truth, columns: prediction)",
            "           " + names.map { $0.padding(toLength: 6, withPad: " ", startingAt: 0) }.joined(),
        ]
        for t in 0..<m.classes {
            let row = m.counts[t].map { String($0).leftPadded(5) + " " }.joined()
            lines.append(Emotion(rawValue: t)!.name.padding(toLength: 11, withPad: " ", startingAt: 0) + row)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
