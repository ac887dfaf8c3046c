import Foundation

/// An 8-bit RGB image (interleaved), for pictures people look at: a photo with boxes drawn on it.
/// Faces themselves are gray (`GrayImage`).
public struct ColourImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// R, G, B of each pixel, row by row.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "\(pixels.count) bytes for \(width)x\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Decodes PNG or JPEG bytes; gray images become three equal channels.
    public init(decoding bytes: [UInt8]) throws {
        let (width, height, pixels) = try GrayImage.decode(bytes, channels: 3)
        self.init(width: width, height: height, pixels: pixels)
    }

    /// PNG or JPEG bytes, chosen by the file name's extension (.png, .jpg, .jpeg).
    public func encoded(for path: String) throws -> [UInt8] {
        switch (path as NSString).pathExtension.lowercased() {
        case "png": return try GrayImage.encodePNG(pixels, width: width, height: height, channels: 3)
        case "jpg", "jpeg": return try GrayImage.encodeJPEG(pixels, width: width, height: height, channels: 3, quality: 92)
        default: throw DataError(path, "cannot write this image format (name a .png, .jpg or .jpeg file)")
        }
    }
}
