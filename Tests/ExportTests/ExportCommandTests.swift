import FacemineData
import Foundation
import Testing

/// `facemine export` as a user runs it: a trained checkpoint becomes an ONNX file that gives,
/// in onnxruntime, the probabilities `facemine predict --tta none` gives for the same faces.
@Suite struct ExportCommandTests {
    func facemine(_ arguments: [String], in folder: URL) throws -> (Int32, String, String) {
        try runProcess(facemineBinary, arguments, in: folder)
    }

    @Test func anExportedCheckpointPredictsWhatPredictDoes() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let (s1, _, e1) = try facemine(
            [
                "train", "--synthetic-count", "160", "--threads", "1", "--batch-size", "16", "--epochs", "1",
                "--model", "resnet18", "--stem", "imagenet", "--tta", "flip", "--name", "r", "--quiet",
            ], in: work)
        #expect(s1 == 0, "\(e1)")
        let checkpoint = work.appendingPathComponent("runs/r/best.safetensors").path
        let (s2, o2, e2) = try facemine(["export", checkpoint, "--onnx", "r.onnx"], in: work)
        #expect(s2 == 0 && o2.contains("wrote r.onnx") && o2.contains("ResNet-18 (imagenet stem)"), "\(o2)\(e2)")

        let count = 6
        let faces = SyntheticFaces(count: count, seed: 4).generate(threads: 1)
        var paths: [String] = []
        for i in 0..<count {
            let url = work.appendingPathComponent("face\(i).png")
            try Data(GrayImage.encodePNG(Array(faces.image(i)), width: 48, height: 48)).write(to: url)
            paths.append(url.path)
        }
        let (s3, o3, e3) = try facemine(["predict", checkpoint] + paths + ["--top", "8", "--json", "--tta", "none"], in: work)
        #expect(s3 == 0, "\(e3)")
        struct Row: Decodable { var classes: [String]; var probabilities: [Double] }
        let predicted = try JSONDecoder().decode([Row].self, from: Data(o3.utf8)).map { row in
            Emotion.allCases.map { e in row.probabilities[row.classes.firstIndex(of: e.name)!] }
        }
        let pixels = (0..<count).flatMap { i in faces.image(i).map { Float($0) / 255 } }
        let onnx = try ONNXExportTests.runtime(work.appendingPathComponent("r.onnx"), faces: pixels, count: count)
        for i in 0..<count {
            let worst = zip(onnx.probabilities[i], predicted[i]).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "face \(i): onnxruntime and predict differ by \(worst)")
        }
        #expect(onnx.metadata["facemine.tta"]?.hasPrefix("flip") == true, "the run's TTA is named for the caller")
        #expect(onnx.metadata["facemine.checkpoint"] == "best.safetensors")
    }

    /// A missing checkpoint or output folder is one line naming it, and nothing is written.
    @Test func badPathsAreOneLineErrors() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let (s1, _, e1) = try facemine(["export", "missing.safetensors", "--onnx", "m.onnx"], in: work)
        #expect(s1 != 0 && e1.contains("missing.safetensors") && e1.split(separator: "\n").count == 1, "\(e1)")
        let (s2, _, e2) = try facemine(["export", "missing.safetensors"], in: work)
        #expect(s2 != 0 && e2.contains("--onnx"), "\(e2)")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("m.onnx").path))
    }
}
