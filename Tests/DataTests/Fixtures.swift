import FacemineData
import Foundation

/// Small files in the exact formats users download, written by the tests themselves.
struct Fixtures {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("facemine-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// A face whose pixels encode its index, so every value can be checked after loading.
    static func face(_ seed: Int) -> [UInt8] {
        (0..<FaceDataset.pixelsPerImage).map { UInt8((seed * 31 + $0 * 7) % 256) }
    }

    static func csvRow(label: String, pixels: [UInt8], usage: String) -> String {
        "\(label),\(pixels.map(String.init).joined(separator: " ")),\(usage)"
    }

    @discardableResult
    func write(_ relativePath: String, _ text: String) throws -> URL {
        try write(relativePath, Array(text.utf8))
    }

    @discardableResult
    func write(_ relativePath: String, _ bytes: [UInt8]) throws -> URL {
        let url = root.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url
    }

    func mkdir(_ relativePath: String) throws {
        try FileManager.default.createDirectory(at: root.appendingPathComponent(relativePath), withIntermediateDirectories: true)
    }
}
