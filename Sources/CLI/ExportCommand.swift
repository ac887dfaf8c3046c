import ArgumentParser
import FacemineBackends
import FacemineData
import FacemineExport
import FacemineTraining
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's model as an ONNX file, for runtimes other than facemine.",
        discussion: """
            The ONNX model takes `faces` [N, 1, 48, 48] float32 (48x48 gray face crops, pixel / 255) and \
            gives `logits` and `probabilities` [N, 8] in facemine's class order (listed in its metadata). \
            It holds the weights `facemine predict --tta none` uses; test-time augmentation is the caller's.
            """)

    @Argument(help: "A checkpoint written by facemine train (or a unit of cv).") var checkpoint: String
    @Option(help: "Where to write the ONNX model (replaced atomically).") var onnx: String

    func run() throws {
        let file = try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint))
        let (config, state) = try Checkpoint.describe(file, location: checkpoint)
        // Any backend holds the weights; the CPU is always there.
        let (device, _) = try BackendChoice.cpu.makeBackend(threads: 1)
        let model = try config.model.make(device, stem: config.stem, dropout: config.dropout, seed: config.seed)
        try Checkpoint.loadWeights(file, into: model, backend: device, location: checkpoint)
        let output = URL(fileURLWithPath: onnx)
        let folder = output.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw CommandFailure("\(onnx): cannot write the model: the folder \(folder) does not exist")
        }
        let metadata: [(key: String, value: String)] = [
            ("facemine.version", RunSummary.version),
            ("facemine.checkpoint", (checkpoint as NSString).lastPathComponent),
            ("facemine.epochs", "\(state.epochsDone)"),
            ("facemine.tta", "\(config.tta.rawValue) (what facemine evaluate applies to this checkpoint; not in the graph)"),
        ]
        do {
            try ONNXModel.write(model, backend: device, to: output, metadata: metadata)
        } catch {
            throw CommandFailure("\(onnx): cannot write the model (\(systemReason(error)))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: onnx)[.size] as? Int) ?? 0
        print(
            "wrote \(onnx): \(model.name), \(model.parameterCount) parameters, "
                + String(format: "%.1f MB", Double(size) / 1e6)
                + "; input faces [N, 1, 48, 48] in [0, 1], outputs logits and probabilities [N, 8]")
    }
}
