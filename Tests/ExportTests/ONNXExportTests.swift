import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineExport
import FacemineNN
import FacemineRandom
import Foundation
import Testing

/// The exported ONNX file, run by onnxruntime (scripts/run-onnx.py; CI installs it from PyPI),
/// must compute what facemine computes: the same faces give the same logits to 1e-4 of their
/// scale, for every architecture and stem. A missing python3, onnx or onnxruntime fails the test.
@Suite struct ONNXExportTests {
    let backend = try! BackendChoice.cpu.makeBackend(threads: 2).backend

    static let models: [(Architecture, ResNetStem)] = [
        (.mycnn, .small), (.resnet18, .small), (.resnet18, .medium), (.resnet18, .imagenet),
    ]

    /// A model whose batch norms are not at their initial identity: running statistics and the
    /// affine terms drawn per channel, so a misplaced BN input would show in the logits.
    func model(_ architecture: Architecture, _ stem: ResNetStem) throws -> any Classifier {
        let model = try architecture.make(backend, stem: stem, seed: 11)
        var rng = SeededGenerator(seed: 5)
        for bn in model.batchNorms {
            let c = bn.runningMean.count
            func upload(_ t: Tensor, _ range: ClosedRange<Float>) {
                let values = (0..<c).map { _ in Float.random(in: range, using: &rng) }
                values.withUnsafeBufferPointer { backend.upload($0, to: t) }
            }
            upload(bn.runningMean, -0.3...0.3)
            upload(bn.runningVariance, 0.5...2)
            upload(bn.gamma.value, 0.5...1.5)
            upload(bn.beta.value, -0.2...0.2)
        }
        return model
    }

    func faces(_ count: Int) -> [Float] {
        var rng = SeededGenerator(seed: 7)
        return (0..<(count * 48 * 48)).map { _ in Float(UInt8.random(in: 0...255, using: &rng)) / 255 }
    }

    struct RuntimeOutput: Decodable {
        let logits: [[Double]]
        let probabilities: [[Double]]
        let metadata: [String: String]
        let inputs: [[Input]]

        enum Input: Decodable {
            case name(String), shape([Dimension])
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .name(s) } else { self = .shape(try c.decode([Dimension].self)) }
            }
        }
        enum Dimension: Decodable, Equatable {
            case size(Int), symbol(String)
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let n = try? c.decode(Int.self) { self = .size(n) } else { self = .symbol(try c.decode(String.self)) }
            }
        }
    }

    /// Runs scripts/run-onnx.py on the model and faces; fails the test with the script's own
    /// error when it cannot run (no python3, no onnxruntime: `pip install onnx onnxruntime`).
    static func runtime(_ model: URL, faces: [Float], count: Int) throws -> RuntimeOutput {
        let facesFile = model.deletingPathExtension().appendingPathExtension("f32")
        try faces.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: facesFile)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../scripts/run-onnx.py")
        let (status, stdout, stderr) = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", script.path, model.path, facesFile.path, "\(count)"])
        guard status == 0 else {
            throw ExportTestFailure("run-onnx.py failed (exit \(status); it needs python3 with onnx and onnxruntime): \(stderr)")
        }
        return try JSONDecoder().decode(RuntimeOutput.self, from: Data(stdout.utf8))
    }

    @Test(arguments: models.indices)
    func onnxruntimeComputesFacemineLogits(_ index: Int) throws {
        let (architecture, stem) = Self.models[index]
        let model = try model(architecture, stem)
        let count = 5
        let pixels = faces(count)
        let normalised = pixels.map { ($0 - PrefetchingBatcher.mean) / PrefetchingBatcher.std }
        let input = try backend.makeTensor([count, 1, 48, 48], values: normalised)
        let expected = try backend.floats(try model.forward(input, StepContext(training: false)))

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("model.onnx")
        try ONNXModel.write(model, backend: backend, to: file, metadata: [("facemine.test", "yes")])
        let result = try Self.runtime(file, faces: pixels, count: count)

        #expect(result.logits.count == count && result.logits.allSatisfy { $0.count == Emotion.count })
        for row in 0..<count {
            let want = expected[(row * Emotion.count)..<((row + 1) * Emotion.count)].map(Double.init)
            let scale = max(1, want.map(abs).max()!)
            let worst = zip(result.logits[row], want).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * scale, "face \(row) of \(model.name): logits differ by \(worst) (scale \(scale))")
            let top = want.max()!, e = want.map { exp($0 - top) }, total = e.reduce(0, +)
            let worstP = zip(result.probabilities[row], e.map { $0 / total }).map { abs($0 - $1) }.max()!
            #expect(worstP <= 1e-5, "face \(row) of \(model.name): probabilities differ by \(worstP)")
        }
        #expect(result.metadata["facemine.classes"] == Emotion.allCases.map(\.name).joined(separator: ","))
        #expect(result.metadata["facemine.model"] == model.name)
        #expect(result.metadata["facemine.test"] == "yes")
        guard case let .name(name) = result.inputs.first?.first, case let .shape(shape) = result.inputs.first?.last else {
            Issue.record("no input reported: \(result.inputs)")
            return
        }
        #expect(name == "faces")
        #expect(shape == [.symbol("N"), .size(1), .size(48), .size(48)])
    }

    /// The graph holds the network's layers and nothing of training: ResNet-18's 20
    /// convolutions and batch norms and 8 residual sums; MyCNN's dropouts vanish.
    @Test func graphHoldsTheInferenceLayersOnly() throws {
        let resnet = try ONNXModel.make(try model(.resnet18, .imagenet), backend: backend).graph.node.map(\.opType)
        #expect(resnet.filter { $0 == "Conv" }.count == 20)
        #expect(resnet.filter { $0 == "BatchNormalization" }.count == 20)
        #expect(resnet.filter { $0 == "Add" }.count == 8)
        #expect(resnet.filter { $0 == "MaxPool" }.count == 1)
        #expect(resnet.last == "Softmax")
        let mycnn = try ONNXModel.make(try model(.mycnn, .small), backend: backend).graph.node.map(\.opType)
        #expect(
            mycnn == [
                "Sub", "Div", "Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "BatchNormalization", "Relu",
                "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Softmax",
            ])
    }
}
