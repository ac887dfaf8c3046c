import FacemineData
import FacemineVision
import Foundation
import Testing

/// `facemine predict` on photos as a user runs it: every face found, cropped and classified as
/// its crop would be, a photo without a face said so without failing, annotated copies written.
@Suite struct PredictOnPhotosTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "facemine")

    func facemine(_ arguments: [String], in folder: URL) throws -> (status: Int32, stdout: String) {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = arguments
        p.currentDirectoryURL = folder
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, stdout)
    }

    struct Row: Decodable {
        struct Face: Decodable { var box: DetectedFace; var classes: [String]; var probabilities: [Double] }
        var image: String
        var classes: [String]?
        var probabilities: [Double]?
        var faces: [Face]?
        var error: String?
    }

    @Test func everyFaceOfAPhotoIsClassifiedAsItsCropWouldBe() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-photos-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let trained = try facemine(
            [
                "train", "--synthetic-count", "60", "--threads", "1", "--batch-size", "16", "--epochs", "1",
                "--quiet", "--name", "m",
            ], in: work)
        #expect(trained.status == 0)
        let scene = try Photos.scene()
        try Data(GrayImage.encodePNG(scene.image.pixels, width: scene.image.width, height: scene.image.height))
            .write(to: work.appendingPathComponent("scene.png"))
        let blank: [UInt8] = (0..<(400 * 300)).map { (i: Int) -> UInt8 in UInt8(90 + (i % 400) / 8) }
        try Data(GrayImage.encodeJPEG(blank, width: 400, height: 300)).write(to: work.appendingPathComponent("blank.jpg"))
        // The faces the detector finds, cropped as predict crops them, as 48x48 files of their own.
        let found = try FaceDetector().faces(in: scene.image)
        try #require(found.count == 3)
        for (k, face) in found.enumerated() {
            try Data(GrayImage.encodePNG(try face.crop(from: scene.image), width: 48, height: 48))
                .write(to: work.appendingPathComponent("crop\(k).png"))
        }

        let images = ["scene.png", "blank.jpg", "crop0.png", "crop1.png", "crop2.png"]
        let run = try facemine(
            ["predict", "runs/m/best.safetensors"] + images + ["--json", "--top", "8", "--annotate", "annotated"],
            in: work)
        #expect(run.status == 0, "a photo without a face is not an error")
        let rows = try JSONDecoder().decode([Row].self, from: Data(run.stdout.utf8))
        try #require(rows.count == 5)
        let faces = try #require(rows[0].faces)
        #expect(faces.map(\.box) == found, "the boxes the library finds")
        #expect(rows[0].classes == nil && rows[1].faces?.isEmpty == true && rows[1].error == nil)
        for k in 0..<3 {
            let crop = rows[2 + k]
            #expect(crop.faces == nil, "a 48x48 image is one face crop")
            #expect(faces[k].classes == crop.classes, "face \(k)")
            for (a, b) in zip(faces[k].probabilities, crop.probabilities ?? []) { #expect(abs(a - b) < 1e-9, "face \(k)") }
        }
        for name in ["scene.png", "blank.jpg", "crop0.png"] {
            let copy = try ColourImage(decoding: [UInt8](Data(contentsOf: work.appendingPathComponent("annotated/\(name)"))))
            let original = try GrayImage(decoding: [UInt8](Data(contentsOf: work.appendingPathComponent(name))))
            #expect(copy.width == original.width && copy.height == original.height, "\(name)")
        }

        let text = try facemine(["predict", "runs/m/best.safetensors", "scene.png", "blank.jpg"], in: work)
        #expect(text.stdout.components(separatedBy: "scene.png: face at").count == 4, "\(text.stdout)")
        #expect(text.stdout.contains("blank.jpg: no face found"), "\(text.stdout)")
        let whole = try facemine(["predict", "runs/m/best.safetensors", "scene.png", "--detect", "never", "--json"], in: work)
        let wholeRow = try JSONDecoder().decode([Row].self, from: Data(whole.stdout.utf8))
        #expect(wholeRow.first?.faces == nil && wholeRow.first?.classes?.count == 3, "--detect never takes the image whole")
        let single = try facemine(["predict", "runs/m/best.safetensors", "scene.png", "--annotate", "one.jpg"], in: work)
        #expect(single.status == 0 && FileManager.default.fileExists(atPath: work.appendingPathComponent("one.jpg").path))
        let nowhere = try facemine(
            ["predict", "runs/m/best.safetensors", "scene.png", "--annotate", "missing/one.png"], in: work)
        #expect(nowhere.status != 0)
    }
}
