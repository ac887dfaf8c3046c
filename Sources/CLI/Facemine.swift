import ArgumentParser

@main
struct Facemine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facemine",
        abstract: "Train facial-emotion classifiers (48x48 faces, 8 classes) on OpenCL GPUs or the CPU.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, PredictCommand.self, EDACommand.self, DevicesCommand.self, DataCommand.self])
}
