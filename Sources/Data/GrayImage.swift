import CImageCodecs
import Foundation

/// An 8-bit grayscale image of any size, decoded from PNG or JPEG through libpng / libjpeg.
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height, "\(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Decodes PNG or JPEG bytes; colour images become gray. Throws the codec's message for
    /// anything else (truncated, corrupt, not an image).
    public init(decoding bytes: [UInt8]) throws {
        let (width, height, pixels) = try Self.decode(bytes, channels: 1)
        self.init(width: width, height: height, pixels: pixels)
    }

    /// PNG or JPEG bytes to 8-bit pixels with 1 (gray) or 3 (RGB) channels, or the codec's message.
    static func decode(_ bytes: [UInt8], channels: Int) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3)
        var out: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { data in
            channels == 1
                ? fm_decode_gray(data.baseAddress, data.count, &out, &w, &h, &message, message.count)
                : fm_decode_rgb(data.baseAddress, data.count, &out, &w, &h, &message, message.count)
        }
        guard status == 0, let out else { throw CodecError(message: String(cString: message)) }
        defer { fm_free(out) }
        return (Int(w), Int(h), Array(UnsafeBufferPointer(start: out, count: Int(w) * Int(h) * channels)))
    }

    /// This image as a 48x48 face: unchanged if it already is one, else resampled.
    public func face() -> [UInt8] {
        width == FaceDataset.side && height == FaceDataset.side
            ? pixels : resized(width: FaceDataset.side, height: FaceDataset.side).pixels
    }

    /// Resamples by averaging each output pixel's footprint (area filter) when shrinking and
    /// bilinear interpolation when enlarging, the usual choices for each direction.
    public func resized(width newWidth: Int, height newHeight: Int) -> GrayImage {
        var out = [UInt8](repeating: 0, count: newWidth * newHeight)
        let sx = Double(width) / Double(newWidth), sy = Double(height) / Double(newHeight)
        for y in 0..<newHeight {
            for x in 0..<newWidth {
                let value: Double
                if sx > 1 || sy > 1 {
                    // Area average over [x*sx, (x+1)*sx) x [y*sy, (y+1)*sy), whole source pixels.
                    let x0 = Int(Double(x) * sx), x1 = max(x0 + 1, Int((Double(x + 1) * sx).rounded(.up)))
                    let y0 = Int(Double(y) * sy), y1 = max(y0 + 1, Int((Double(y + 1) * sy).rounded(.up)))
                    var total = 0
                    for yy in y0..<min(y1, height) { for xx in x0..<min(x1, width) { total += Int(pixels[yy * width + xx]) } }
                    value = Double(total) / Double((min(y1, height) - y0) * (min(x1, width) - x0))
                } else {
                    let fx = max(0, (Double(x) + 0.5) * sx - 0.5), fy = max(0, (Double(y) + 0.5) * sy - 0.5)
                    let x0 = min(Int(fx), width - 1), y0 = min(Int(fy), height - 1)
                    let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
                    let ax = fx - Double(x0), ay = fy - Double(y0)
                    func p(_ xx: Int, _ yy: Int) -> Double { Double(pixels[yy * width + xx]) }
                    value = (p(x0, y0) * (1 - ax) + p(x1, y0) * ax) * (1 - ay) + (p(x0, y1) * (1 - ax) + p(x1, y1) * ax) * ay
                }
                out[y * newWidth + x] = UInt8(max(0, min(255, value.rounded())))
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// PNG bytes of 8-bit pixels with 1 (gray) or 3 (RGB) channels.
    public static func encodePNG(_ pixels: [UInt8], width: Int, height: Int, channels: Int = 1) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, channels: channels) { p, out, size, message in
            fm_encode_png(p, Int32(width), Int32(height), Int32(channels), out, size, message, 256)
        }
    }

    public static func encodeJPEG(
        _ pixels: [UInt8], width: Int, height: Int, channels: Int = 1,
        quality: Int = 95
    ) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, channels: channels) { p, out, size, message in
            fm_encode_jpeg(p, Int32(width), Int32(height), Int32(channels), Int32(quality), out, size, message, 256)
        }
    }

    private static func encode(
        _ pixels: [UInt8], width: Int, height: Int, channels: Int,
        _ codec: (
            UnsafePointer<UInt8>, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>,
            UnsafeMutablePointer<CChar>
        ) -> Int32
    ) throws -> [UInt8] {
        precondition(pixels.count == width * height * channels, "pixel count does not match \(width)x\(height)x\(channels)")
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer { codec($0.baseAddress!, &out, &size, &message) }
        guard status == 0, let out else { throw CodecError(message: String(cString: message)) }
        defer { fm_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }
}

/// A codec's own complaint, e.g. "Premature end of JPEG file".
public struct CodecError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
