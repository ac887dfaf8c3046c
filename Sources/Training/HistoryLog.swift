import FacemineData
import Foundation

/// `history.csv` in a run folder: one row per finished epoch with every number the epoch line
/// shows, rewritten after each epoch (atomically, from the history the checkpoint holds), so it
/// is there while a run trains, survives a kill, and never disagrees with `last.safetensors`.
public enum HistoryLog {
    public static let fileName = "history.csv"

    static let columns =
        [
            "epoch", "learning_rate", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_macro_f1",
            "val_weighted_f1", "val_worst_recall", "new_best", "seconds", "images_per_second", "fc1_live_units",
        ]
        + Emotion.allCases.map { "val_recall_\($0.name)" }

    public static func csv(_ history: [EpochRecord]) -> String {
        func number(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
        var lines = [columns.joined(separator: ",")]
        for r in history {
            let v = r.validation
            var row = [
                String(r.epoch), number(r.learningRate), number(r.trainLoss), number(r.trainAccuracy),
                number(v?.loss), number(v?.accuracy), number(v?.macroF1), number(v?.weightedF1), number(v?.worstRecall),
                r.newBest == true ? "1" : "0", number(r.seconds), number(r.imagesPerSecond), number(r.liveHiddenUnits),
            ]
            row += Emotion.allCases.map { e in
                number(v.flatMap { $0.confusion.support(e.rawValue) > 0 ? $0.confusion.recall(e.rawValue) : nil })
            }
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func write(_ history: [EpochRecord], into folder: URL) throws {
        try RunFiles.write(Data(csv(history).utf8), to: folder.appendingPathComponent(fileName))
    }
}
