import FacemineData
import Foundation

/// The real photograph the tests look for faces in: NASA's public-domain portrait of Eileen
/// Collins, shipped as astronaut.png by scikit-image (CI installs it from PyPI). Found through
/// python3; a missing photo fails the test that needs it.
enum Photos {
    static func astronautPath() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import os, skimage; print(os.path.join(os.path.dirname(skimage.__file__), 'data', 'astronaut.png'))",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: path) else {
            throw PhotoMissing(
                description: "astronaut.png not found: the photo tests need scikit-image (pip install scikit-image)")
        }
        return path
    }

    static func astronaut() throws -> GrayImage {
        try GrayImage(decoding: [UInt8](Data(contentsOf: URL(fileURLWithPath: try astronautPath()))))
    }

    /// Where OpenCV's detector boxes the astronaut's face (checked by the tests against the
    /// photo itself: her face spans about x 175-270, y 65-160 of the 512x512 portrait).
    static let faceCentre = (x: 223.5, y: 113.5), faceSide = 93.0

    /// `source`'s square patch of side `side` centred on `centre`, drawn into `canvas` scaled by
    /// `scale`, turned by `degrees` (positive: clockwise as seen, y pointing down) and centred on
    /// `at`, with bilinear sampling. Returns where the patch's centre landed.
    static func paste(
        _ source: GrayImage, centre: (x: Double, y: Double), side: Double, into canvas: inout [UInt8],
        width: Int, height: Int, at: (x: Double, y: Double), scale: Double, degrees: Double
    ) {
        let t = degrees * .pi / 180, c = cos(t), s = sin(t)
        let half = side * scale / 2 * 1.5
        for y in max(0, Int(at.y - half))..<min(height, Int(at.y + half)) {
            for x in max(0, Int(at.x - half))..<min(width, Int(at.x + half)) {
                // Canvas -> patch: undo the turn, then the scale.
                let dx = Double(x) - at.x, dy = Double(y) - at.y
                let u = (c * dx + s * dy) / scale, v = (-s * dx + c * dy) / scale
                guard abs(u) <= side / 2, abs(v) <= side / 2 else { continue }
                let sx = centre.x + u, sy = centre.y + v
                let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                guard x0 >= 0, y0 >= 0, x0 + 1 < source.width, y0 + 1 < source.height else { continue }
                let ax = sx - Double(x0), ay = sy - Double(y0)
                func p(_ xx: Int, _ yy: Int) -> Double { Double(source.pixels[yy * source.width + xx]) }
                let value =
                    (p(x0, y0) * (1 - ax) + p(x0 + 1, y0) * ax) * (1 - ay) + (p(x0, y0 + 1) * (1 - ax) + p(x0 + 1, y0 + 1) * ax)
                    * ay
                canvas[y * width + x] = UInt8(max(0, min(255, value.rounded())))
            }
        }
    }

    /// Three copies of the astronaut's face in a wider scene at known places, sizes and turns.
    struct Scene {
        let image: GrayImage
        /// Each copy's face centre, side and turn, left to right.
        let faces: [(x: Double, y: Double, side: Double, degrees: Double)]
    }

    static func scene() throws -> Scene {
        let source = try astronaut()
        let width = 960, height = 420
        // A smooth gray background with a gentle gradient: nothing face-like.
        var canvas = (0..<(width * height)).map { i in UInt8(110 + (i % width) * 40 / width) }
        let placed: [(x: Double, y: Double, scale: Double, degrees: Double)] = [
            (170, 210, 1.0, 0), (480, 200, 1.25, 10), (790, 220, 0.9, -10),
        ]
        for p in placed {
            paste(
                source, centre: faceCentre, side: faceSide * 2, into: &canvas, width: width, height: height,
                at: (p.x, p.y), scale: p.scale, degrees: p.degrees)
        }
        return Scene(
            image: GrayImage(width: width, height: height, pixels: canvas),
            faces: placed.map { ($0.x, $0.y, faceSide * $0.scale, $0.degrees) })
    }
}

struct PhotoMissing: Error, CustomStringConvertible {
    let description: String
}
