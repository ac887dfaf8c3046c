import FacemineTraining
import Foundation

/// Training progress on stderr: a live bar with loss, accuracy, images/s and ETA on a terminal;
/// one compact line per epoch otherwise (CI logs).
final class Progress {
    let quiet: Bool
    let verbose: Bool
    /// Of the run being shown (a study sets them per unit).
    var epochs: Int
    var batchSize: Int
    /// The run keeps its last epoch (`--keep last`): every epoch replaces best.safetensors.
    var keepsLast = false
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDraw = 0.0

    init(quiet: Bool, verbose: Bool, epochs: Int, batchSize: Int) {
        self.quiet = quiet
        self.verbose = verbose
        self.epochs = epochs
        self.batchSize = batchSize
    }

    func say(_ line: String) {
        if !quiet { note(line) }
    }

    func handle(_ event: TrainingEvent) {
        guard !quiet else { return }
        switch event {
        case let .batch(epoch, batch, total, loss, accuracy, rate):
            guard isTerminal else { return }
            let now = Date().timeIntervalSince1970
            guard batch == total || now - lastDraw > 0.1 else { return }
            lastDraw = now
            let width = 24, filled = width * batch / max(total, 1)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let eta = Double((total - batch) * batchSize) / max(rate, 1e-9)
            let line = String(
                format: "epoch %d/%d [%@] %d/%d loss %.4f acc %.3f %.0f img/s ETA %.0fs",
                epoch + 1, epochs, bar, batch, total, loss, accuracy, rate, eta)
            FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
        case let .note(line):
            if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            note(line)
        case let .skipped(step):
            if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            note("skipped \(step)")
        case let .epoch(record):
            if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            var line = String(
                format: "epoch %d/%d loss %.4f acc %.3f", record.epoch, epochs, record.trainLoss, record.trainAccuracy)
            if let v = record.validation {
                line += String(format: " | val loss %.4f acc %.3f macro-F1 %.3f", v.loss, v.accuracy, v.macroF1)
            }
            line += String(format: " | %.0f img/s %.1fs lr %.2e", record.imagesPerSecond, record.seconds, record.learningRate)
            if record.newBest == true {
                line += keepsLast ? " | kept (--keep last): saved best.safetensors" : " | best so far: saved best.safetensors"
            }
            if verbose, let live = record.liveHiddenUnits { line += String(format: " | fc1 units firing %.0f%%", live * 100) }
            note(line)
        }
    }
}
