import ArgumentParser
import FacemineBackends
import FacemineBench
import FacemineTraining
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the backends side by side: per-op rates on the models' layer shapes, training and inference images/s.",
        discussion: """
            Every backend and device runs in one process, one after the other: the CPU backend and each \
            OpenCL device, or only those named by --backend / --device. Times are medians of --repeats runs \
            after warm-up; start-up costs (kernel compile, first GEMM, first training step) are reported apart. \
            Build with -c release for meaningful numbers.
            """)

    @Option(help: ArgumentHelp("\(BackendTarget.selectionNames).")) var backend = "all"
    @Option(parsing: .unconditional, help: "With --backend opencl: only this OpenCL device (see `facemine devices`).") var device:
        Int?
    @Option(parsing: .unconditional, help: "CPU backend threads (default: FACEMINE_THREADS or all cores).") var threads: Int?
    @Option(parsing: .unconditional, help: "Batch size of the per-op shapes.") var batch = 64
    @Option(help: "Batch sizes of the training and inference timings, comma-separated.") var batches = "32,128"
    @Option(parsing: .unconditional, help: "Measured repeats per item (the median is reported).") var repeats = 5
    @Option(help: "Only layer shapes and models whose name contains this text, e.g. MyCNN or imagenet.") var model: String?
    @Flag(help: "Per-op timings only.") var opsOnly = false
    @Flag(help: "Training and inference timings only.") var modelsOnly = false
    @Flag(help: "A tiny configuration that proves every part runs (what CI does); its times mean nothing.") var quick = false
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "Print the tables as Markdown (for docs/BENCHMARKS.md).") var markdown = false
    @Option(help: ArgumentHelp("Also write the JSON report to this file.", valueName: "file")) var out: String?
    @Option(
        help: ArgumentHelp(
            "Show ratios against an earlier report (another commit, machine, or benchmarks/pytorch/bench.py).",
            valueName: "file")) var compare: String?

    func validate() throws {
        guard BackendTarget.selections.contains(backend) else {
            throw ValidationError("--backend must be \(BackendTarget.selectionNames)")
        }
        if device != nil && backend != BackendChoice.opencl.rawValue { throw ValidationError("--device needs --backend opencl") }
        try BackendChoice.cpu.checkOptions(device: nil, threads: threads)
        guard !(opsOnly && modelsOnly) else { throw ValidationError("--ops-only and --models-only exclude each other") }
        guard repeats >= 1, batch >= 1 else { throw ValidationError("--repeats and --batch must be at least 1") }
        guard !parsedBatches.isEmpty, parsedBatches.allSatisfy({ $0 >= 2 }) else {
            throw ValidationError("--batches must list batch sizes of at least 2 (batch norm), e.g. 32,128")
        }
    }

    var parsedBatches: [Int] { batches.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        var options = quick ? BenchOptions.quick : BenchOptions()
        if !quick {
            options.opBatch = batch
            options.modelBatches = parsedBatches
            options.repeats = repeats
        }
        options.threads = threads
        options.modelFilter = model
        options.includeOps = !modelsOnly
        options.includeModels = !opsOnly
        let other = try compare.map { try BenchReport.read(URL(fileURLWithPath: $0)) }

        let targets: [BackendTarget]
        do {
            targets = try BackendTarget.selected(backend, device: device)
        } catch let error as BackendOptionError {
            throw CommandFailure(error.description)
        }
        let progress = Progress(quiet: json, verbose: false, epochs: 1, batchSize: 1)
        let bench = Bench(options: options) { progress.say($0) }
        let command = (["facemine"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let report = try bench.run(targets, command: command)

        if let out { try RunFiles.writeJSON(report, to: URL(fileURLWithPath: out)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(BenchTables.render(report, compare: other, style: markdown ? .markdown : .terminal))
        }
    }
}
