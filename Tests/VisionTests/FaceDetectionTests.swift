import FacemineData
import FacemineVision
import Foundation
import Testing

/// OpenCV's detector and facemine's crops on a real photograph and on scenes made from it
/// with faces at known places, sizes and turns.
@Suite struct FaceDetectionTests {
    let detector = try! FaceDetector()

    func centre(_ f: DetectedFace) -> (x: Double, y: Double) {
        (Double(f.x) + Double(f.width) / 2, Double(f.y) + Double(f.height) / 2)
    }

    @Test func findsTheAstronautsFaceAndEyes() throws {
        let faces = try detector.faces(in: try Photos.astronaut())
        #expect(faces.count == 1, "\(faces)")
        let face = try #require(faces.first)
        let c = centre(face)
        #expect(abs(c.x - Photos.faceCentre.x) < 12 && abs(c.y - Photos.faceCentre.y) < 12, "\(face)")
        #expect(abs(Double(face.width) - Photos.faceSide) < 15, "\(face)")
        let eyes = try #require(face.eyes, "both eyes are found in a frontal portrait")
        #expect(eyes[0].x < c.x && eyes[1].x > c.x && eyes.allSatisfy { $0.y > Double(face.y) && $0.y < c.y })
        #expect(abs(face.tilt) < 6)
    }

    /// Three copies of the face, upright, enlarged and turned 10 degrees, shrunk and turned -10:
    /// each found where it was put, at its size, its eyes' slope following the turn.
    @Test func findsEveryFaceOfASceneWhereItWasPut() throws {
        let scene = try Photos.scene()
        let upright = try #require(try detector.faces(in: try Photos.astronaut()).first).tilt
        let faces = try detector.faces(in: scene.image)
        #expect(faces.count == scene.faces.count, "\(faces)")
        for (found, put) in zip(faces, scene.faces) {
            let c = centre(found)
            #expect(abs(c.x - put.x) < 0.2 * put.side && abs(c.y - put.y) < 0.2 * put.side, "\(found) for \(put)")
            #expect(abs(Double(found.width) / put.side - 1) < 0.25, "\(found) for \(put)")
            let eyes = try #require(found.eyes, "eyes of the face at \(put)")
            #expect(eyes.count == 2)
            #expect(abs(found.tilt - (upright + put.degrees)) < 5, "tilt \(found.tilt) for a turn of \(put.degrees)")
        }
    }

    /// Levelling the eyes undoes a turn: cropped from the box each copy was put in, with the eyes
    /// the detector found, the turned copies are much closer to the upright copy than without.
    @Test func alignmentLevelsATurnedFace() throws {
        let scene = try Photos.scene()
        let faces = try detector.faces(in: scene.image)
        try #require(faces.count == 3 && faces.allSatisfy { $0.eyes != nil })
        func box(_ k: Int, eyes: [DetectedFace.Point]?) -> DetectedFace {
            let put = scene.faces[k]
            return DetectedFace(
                x: Int((put.x - put.side / 2).rounded()), y: Int((put.y - put.side / 2).rounded()),
                width: Int(put.side.rounded()), height: Int(put.side.rounded()), eyes: eyes)
        }
        // The upright copy levelled by its own eyes, as every face is.
        let reference = try box(0, eyes: faces[0].eyes).crop(from: scene.image)
        func distance(_ a: [UInt8], _ b: [UInt8]) -> Double {
            zip(a, b).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(a.count)
        }
        for k in 1..<3 {
            let aligned = distance(try box(k, eyes: faces[k].eyes).crop(from: scene.image), reference)
            let plain = distance(try box(k, eyes: nil).crop(from: scene.image), reference)
            #expect(aligned < 0.6 * plain, "copy \(k): \(aligned) from the upright face aligned, \(plain) without levelling")
        }
    }

    /// A crop is 48x48, and a face crop of the 48x48 face box is that face itself (no margin:
    /// training faces are framed as the detector frames them).
    @Test func aCropOfAnUprightBoxIsTheBoxShrunk() throws {
        let pixels = (0..<(96 * 96)).map { UInt8(($0 * 37) % 256) }
        let image = GrayImage(width: 96, height: 96, pixels: pixels)
        let box = DetectedFace(x: 0, y: 0, width: 96, height: 96)
        let crop = try box.crop(from: image)
        #expect(crop.count == 48 * 48)
        // Area averaging: each output pixel is the mean of a 2x2 block.
        for (y, x) in [(0, 0), (10, 20), (47, 47)] {
            let block = [0, 1].flatMap { dy in [0, 1].map { dx in Double(pixels[(2 * y + dy) * 96 + 2 * x + dx]) } }
            #expect(abs(Double(crop[y * 48 + x]) - block.reduce(0, +) / 4) <= 1, "pixel \(x), \(y)")
        }
    }

    @Test func anImageWithoutAFaceGivesNone() throws {
        let blank = GrayImage(width: 400, height: 300, pixels: (0..<120_000).map { UInt8(100 + ($0 % 400) / 10) })
        #expect(try detector.faces(in: blank).isEmpty)
    }

    @Test func missingCascadesSayWhatToInstall() {
        #expect {
            try FaceDetector(cascades: "/nonexistent/cascades")
        } throws: { error in
            "\(error)".contains("opencv-data") && "\(error)".contains("FACEMINE_CASCADES")
                && "\(error)".contains("/nonexistent/cascades")
        }
    }

    /// Boxes are drawn in colour on a copy of the photo, the rest of it untouched.
    @Test func annotationDrawsBoxesOnAColourCopy() throws {
        let photo = try ColourImage(decoding: [UInt8](Data(contentsOf: URL(fileURLWithPath: try Photos.astronautPath()))))
        #expect(photo.width == 512 && photo.height == 512)
        let box = DetectedFace(x: 100, y: 200, width: 150, height: 120)
        let drawn = try Annotation.draw([box], labels: ["happiness 0.93"], on: photo)
        func rgb(_ image: ColourImage, _ x: Int, _ y: Int) -> [UInt8] {
            Array(image.pixels[((y * 512 + x) * 3)..<((y * 512 + x) * 3 + 3)])
        }
        #expect(rgb(drawn, 175, 320) == [60, 220, 60], "the box's bottom edge is drawn")
        #expect(rgb(drawn, 400, 450) == rgb(photo, 400, 450), "far from the box nothing changes")
        let png = try ColourImage(decoding: try drawn.encoded(for: "x.png"))
        #expect(png == drawn)
        #expect(throws: DataError.self) { try drawn.encoded(for: "x.gif") }
    }
}
