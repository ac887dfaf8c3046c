import FacemineData
import FacemineVision
import Foundation
import Testing

/// Videos in and out through OpenCV's video I/O (libFacemineVideo.so, loaded when a video is
/// given), and `facemine predict` on a video: a line per classified frame, an annotated copy.
@Suite struct VideoTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A clip of `faceFrames` frames of the three-face scene, then as many of the bare background.
    func writeClip(_ path: String, faceFrames: Int) throws -> Photos.Scene {
        let scene = try Photos.scene()
        let w = scene.image.width, h = scene.image.height
        func colour(_ gray: [UInt8]) -> ColourImage { ColourImage(width: w, height: h, pixels: gray.flatMap { [$0, $0, $0] }) }
        let background: [UInt8] = (0..<(w * h)).map { (i: Int) -> UInt8 in UInt8(110 + (i % w) * 40 / w) }
        let writer = try VideoWriter(path, width: w, height: h, fps: 10)
        for _ in 0..<faceFrames { try writer.append(colour(scene.image.pixels)) }
        for _ in 0..<faceFrames { try writer.append(colour(background)) }
        return scene
    }

    @Test func framesRoundTripThroughAVideoFile() throws {
        let work = try folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let path = work.appendingPathComponent("clip.avi").path
        let scene = try writeClip(path, faceFrames: 3)
        let reader = try VideoReader(path)
        #expect(reader.width == scene.image.width && reader.height == scene.image.height && abs(reader.fps - 10) < 0.01)
        var frames: [GrayImage] = []
        while let frame = reader.next() { frames.append(frame.gray) }
        #expect(frames.count == 6)
        // Motion-JPEG is lossy: close to the scene, not equal.
        let error =
            zip(frames[0].pixels, scene.image.pixels).map { abs(Double($0) - Double($1)) }.reduce(0, +)
            / Double(frames[0].pixels.count)
        #expect(error < 4, "mean error \(error)")
        #expect(try FaceDetector().faces(in: frames[0]).count == 3)
    }

    @Test func aFileThatIsNotAVideoIsOneClearError() throws {
        let work = try folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let path = work.appendingPathComponent("broken.mp4").path
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try VideoReader(path) } throws: {
            "\($0)".contains("broken.mp4") && "\($0)".contains("cannot open it as a video")
        }
        #expect { try VideoReader(work.appendingPathComponent("missing.mp4").path) } throws: { "\($0)".contains("no such file") }
    }

    @Test func predictGivesALinePerClassifiedFrameAndAnAnnotatedCopy() throws {
        let work = try folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let photos = PredictOnPhotosTests()
        #expect(
            try photos.facemine(
                [
                    "train", "--synthetic-count", "60", "--threads", "1", "--batch-size", "16", "--epochs", "1",
                    "--quiet", "--name", "m",
                ], in: work
            ).status == 0)
        _ = try writeClip(work.appendingPathComponent("clip.avi").path, faceFrames: 4)
        let run = try photos.facemine(
            [
                "predict", "runs/m/best.safetensors", "clip.avi", "--json", "--every", "2",
                "--annotate", "annotated.avi",
            ], in: work)
        #expect(run.status == 0)
        struct Line: Decodable {
            struct Face: Decodable { var box: DetectedFace; var classes: [String] }
            var video: String; var frame: Int; var seconds: Double?; var faces: [Face]?
        }
        let lines = try run.stdout.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        #expect(lines.map(\.frame) == [0, 2, 4, 6])
        #expect(lines.map { $0.faces?.count ?? -1 } == [3, 3, 0, 0])
        #expect(lines[1].seconds.map { abs($0 - 0.2) < 1e-9 } == true)
        #expect(lines[0].faces?.allSatisfy { $0.classes.count == 3 } == true)
        let copy = try VideoReader(work.appendingPathComponent("annotated.avi").path)
        var count = 0, first: ColourImage?
        while let frame = copy.next() { count += 1; if first == nil { first = frame.colour } }
        #expect(count == 8, "the annotated copy keeps every frame")
        // The box is drawn in colour on the first frame: some pixels are far from gray.
        let coloured = try #require(first).pixels.indices.filter { $0 % 3 == 0 }.contains { i in
            let p = first!.pixels
            return abs(Int(p[i + 1]) - Int(p[i])) > 100
        }
        #expect(coloured)

        let broken = work.appendingPathComponent("broken.mp4")
        try Data("not a video".utf8).write(to: broken)
        let failed = try photos.facemine(["predict", "runs/m/best.safetensors", "broken.mp4", "clip.avi", "--json"], in: work)
        #expect(failed.status == 1, "a video that cannot be read fails the command, after the others ran")
        #expect(failed.stdout.contains("\"error\"") && failed.stdout.contains("\"frame\":6"), "\(failed.stdout)")
        let mixed = try photos.facemine(["predict", "runs/m/best.safetensors", "clip.avi", "face.png"], in: work)
        #expect(mixed.status != 0)
    }
}
