import CVision
import FacemineData
import Foundation

/// What went wrong inside OpenCV or with its files, in one line.
public struct VisionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// OpenCV's Haar-cascade face detector with its eye detector, which finds the eyes that align a
/// face. The cascades are the XML files of Debian's `opencv-data` (or of any OpenCV install).
public final class FaceDetector {
    /// The share of the box's width added on each side of a crop: none, because the training
    /// faces are framed as this detector frames a face. Measured on real faces (FER-2013 and CK+48
    /// crops enlarged 4x on a wider canvas, docs/RESULTS.md): the box is 0.99 (FER-2013, median
    /// of 305) and 1.005 (CK+48, 209) of the crop's side, centred on it.
    public static let margin = 0.0
    public static let faceCascade = "haarcascade_frontalface_default.xml"
    public static let eyeCascade = "haarcascade_eye.xml"
    /// Where OpenCV installs put the cascades; `FACEMINE_CASCADES` names another folder.
    public static let searchFolders = [
        "/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades",
        "/usr/local/share/opencv4/haarcascades", "/opt/homebrew/share/opencv4/haarcascades",
    ]

    private let detector: OpaquePointer

    /// Loads the cascades from `folder`, or from the first of `FACEMINE_CASCADES` and
    /// `searchFolders` that holds them.
    public init(cascades folder: String? = nil) throws {
        let environment = ProcessInfo.processInfo.environment["FACEMINE_CASCADES"]
        let candidates = folder.map { [$0] } ?? ((environment.map { [$0] } ?? []) + Self.searchFolders)
        guard
            let found = candidates.first(where: {
                FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent(Self.faceCascade))
            })
        else {
            throw VisionError(
                "no face detector: \(Self.faceCascade) is not in " + candidates.joined(separator: ", ")
                    + " (install Debian's opencv-data, or set FACEMINE_CASCADES to the folder holding OpenCV's cascades)")
        }
        var error = [CChar](repeating: 0, count: 512)
        guard
            let d = fm_detector_create(
                (found as NSString).appendingPathComponent(Self.faceCascade),
                (found as NSString).appendingPathComponent(Self.eyeCascade), &error, error.count)
        else {
            throw VisionError(String(cString: error))
        }
        detector = d
    }

    deinit { fm_detector_destroy(detector) }

    /// The faces at least `minFace` pixels wide, left to right.
    public func faces(in image: GrayImage, minFace: Int = 24) throws -> [DetectedFace] {
        var capacity = 64
        while true {
            var raw = [fm_face](repeating: fm_face(), count: capacity)
            var error = [CChar](repeating: 0, count: 512)
            let found = image.pixels.withUnsafeBufferPointer { pixels in
                fm_detect_faces(
                    detector, pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(minFace), &raw,
                    Int32(capacity), &error, error.count)
            }
            guard found >= 0 else { throw VisionError(String(cString: error)) }
            if Int(found) <= capacity { return raw.prefix(Int(found)).map(DetectedFace.init) }
            capacity = Int(found)
        }
    }
}
