import CVision
import FacemineData
import Foundation

/// A face found in a photo or frame, in that image's pixel coordinates.
public struct DetectedFace: Codable, Equatable, Sendable {
    public struct Point: Codable, Equatable, Sendable {
        public var x: Double, y: Double
    }

    public var x: Int, y: Int, width: Int, height: Int
    /// Both eye centres (the one on the image's left first), when the eye detector found a pair.
    public var eyes: [Point]?

    public init(x: Int, y: Int, width: Int, height: Int, eyes: [Point]? = nil) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.eyes = eyes
    }

    init(_ f: fm_face) {
        self.init(
            x: Int(f.x), y: Int(f.y), width: Int(f.width), height: Int(f.height),
            eyes: f.has_eyes != 0
                ? [
                    Point(x: Double(f.left_eye_x), y: Double(f.left_eye_y)),
                    Point(x: Double(f.right_eye_x), y: Double(f.right_eye_y)),
                ] : nil)
    }

    var raw: fm_face {
        let e = eyes ?? []
        return fm_face(
            x: Int32(x), y: Int32(y), width: Int32(width), height: Int32(height), has_eyes: e.count == 2 ? 1 : 0,
            left_eye_x: Float(e.first?.x ?? 0), left_eye_y: Float(e.first?.y ?? 0),
            right_eye_x: Float(e.last?.x ?? 0), right_eye_y: Float(e.last?.y ?? 0))
    }

    /// The slope of the line between the eyes, in degrees (0 when they are level or not found).
    public var tilt: Double {
        guard let e = eyes, e.count == 2 else { return 0 }
        return atan2(e[1].y - e[0].y, e[1].x - e[0].x) * 180 / .pi
    }

    /// The face as a training-style crop: turned so the eyes are level, `margin` of the box's
    /// width added on each side, shrunk to `side` x `side` gray with area averaging.
    public func crop(from image: GrayImage, margin: Double = FaceDetector.margin, side: Int = FaceDataset.side) throws -> [UInt8]
    {
        var out = [UInt8](repeating: 0, count: side * side)
        var error = [CChar](repeating: 0, count: 512)
        var face = raw
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            fm_crop_face(
                pixels.baseAddress, Int32(image.width), Int32(image.height), &face, Float(margin), Int32(side), &out,
                &error, error.count)
        }
        guard status == 0 else { throw VisionError(String(cString: error)) }
        return out
    }
}
