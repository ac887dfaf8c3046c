import CVision
import FacemineData
import Foundation

/// Boxes and labels drawn on a photo, for people to look at the results.
public enum Annotation {
    /// The image with each face's box and its label above it.
    public static func draw(_ faces: [DetectedFace], labels: [String], on image: ColourImage) throws -> ColourImage {
        precondition(faces.count == labels.count)
        var out = image
        var error = [CChar](repeating: 0, count: 512)
        let raw = faces.map(\.raw)
        let status = withCStrings(labels) { labels in
            out.pixels.withUnsafeMutableBufferPointer { pixels in
                fm_draw_faces(
                    pixels.baseAddress, Int32(image.width), Int32(image.height), raw, labels, Int32(faces.count),
                    &error, error.count)
            }
        }
        guard status == 0 else { throw VisionError(String(cString: error)) }
        return out
    }
}

/// Calls `body` with the strings as a C array of C strings, valid for the call.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}
