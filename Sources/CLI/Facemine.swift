import ArgumentParser
import FacemineCPU
import Foundation

@main
struct Facemine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facemine",
        abstract: "Train facial-emotion classifiers (48x48 faces, 8 classes) on OpenCL GPUs or the CPU.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, PredictCommand.self, EDACommand.self, DevicesCommand.self,
                      CVCommand.self, TuneCommand.self, ReportCommand.self, DataCommand.self, BenchCommand.self])

    static func main() {
        OpenBLASCore.restartWithBetterKernelIfNeeded()
        // A file-size limit (or a quota) must surface as a write error that says what happened
        // and keeps the previous checkpoint, not as a signal that kills the process mid-write.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
