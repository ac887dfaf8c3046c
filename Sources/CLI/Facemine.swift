import ArgumentParser
import FacemineBackends
import FacemineTraining
import Foundation

@main
struct Facemine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facemine",
        abstract: "Train facial-emotion classifiers (48x48 faces, 8 classes) on OpenCL GPUs or the CPU.",
        version: RunSummary.version,
        subcommands: [
            TrainCommand.self, EvaluateCommand.self, PredictCommand.self, EDACommand.self, DevicesCommand.self,
            CVCommand.self, TuneCommand.self, ReportCommand.self, DataCommand.self, BenchCommand.self,
            ExportCommand.self,
        ])

    static func main() {
        BackendChoice.prepareProcess()
        // A file-size limit (or a quota) must surface as a write error that says what happened
        // and keeps the previous checkpoint, not as a signal that kills the process mid-write.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, !first.hasPrefix("-"), let hint = unknownCommandHint(first) {
            note("Error: \(hint)")
            Foundation.exit(64)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// "unknown command 'trian'; did you mean train?" for a first word that names no subcommand.
func unknownCommandHint(_ word: String) -> String? {
    let names = Facemine.configuration.subcommands.map { $0.configuration.commandName ?? "" } + ["help"]
    guard !names.contains(word) else { return nil }
    let closest = names.min { ConfigurationKeys.editDistance(word, $0) < ConfigurationKeys.editDistance(word, $1) }!
    let near = ConfigurationKeys.editDistance(word, closest) <= max(2, word.count / 3)
    return "unknown command '\(word.prefix(40))'"
        + (near ? "; did you mean \(closest)?" : "; the commands are " + names.dropLast().joined(separator: ", "))
}
