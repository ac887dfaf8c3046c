import FacemineData
import Foundation
import Testing

/// Colour decoding for annotated copies: RGB survives PNG exactly and JPEG closely, a gray
/// image becomes three equal channels, and bad bytes are the codec's one-line error.
@Suite struct ColourImageTests {
    let width = 40, height = 30
    var rgb: [UInt8] {
        (0..<(width * height * 3)).map { (i: Int) -> UInt8 in
            let channel = i % 3, pixel = i / 3
            return UInt8(channel * 100 + pixel % 50)
        }
    }

    @Test func rgbRoundTripsThroughPNGAndJPEG() throws {
        let png = try ColourImage(decoding: try GrayImage.encodePNG(rgb, width: width, height: height, channels: 3))
        #expect(png == ColourImage(width: width, height: height, pixels: rgb))
        let jpeg = try ColourImage(
            decoding: try GrayImage.encodeJPEG(rgb, width: width, height: height, channels: 3, quality: 100))
        let worst = zip(jpeg.pixels, rgb).map { abs(Int($0) - Int($1)) }.max()!
        #expect(jpeg.width == width && jpeg.height == height && worst < 24, "JPEG off by \(worst)")
    }

    @Test func grayBecomesThreeEqualChannels() throws {
        let gray = (0..<(width * height)).map { UInt8($0 % 256) }
        for bytes in [
            try GrayImage.encodePNG(gray, width: width, height: height),
            try GrayImage.encodeJPEG(gray, width: width, height: height, quality: 100),
        ] {
            let image = try ColourImage(decoding: bytes)
            let p = image.pixels
            let equal = (0..<(width * height)).allSatisfy { (k: Int) -> Bool in
                p[3 * k] == p[3 * k + 1] && p[3 * k] == p[3 * k + 2]
            }
            #expect(equal)
            #expect(abs(Int(image.pixels[3 * 100]) - Int(gray[100])) <= 2)
        }
    }

    @Test func badBytesAreTheCodecsError() {
        #expect(throws: CodecError.self) { try ColourImage(decoding: Array("not an image".utf8)) }
        let png = try! GrayImage.encodePNG(rgb, width: width, height: height, channels: 3)
        #expect(throws: CodecError.self) { try ColourImage(decoding: Array(png.prefix(png.count / 2))) }
    }
}
