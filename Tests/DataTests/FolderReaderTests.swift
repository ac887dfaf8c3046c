import FacemineData
import Foundation
import Testing

@Suite struct FolderReaderTests {
    /// A FER-2013 Kaggle layout: JPEGs in train/ and test/, file prefixes keeping the split.
    func writeFER(_ f: Fixtures, extra: (Fixtures) throws -> Void = { _ in }) throws {
        try f.write(
            "fer/train/angry/Training_10.jpg", GrayImage.encodeJPEG(Fixtures.face(0), width: 48, height: 48, quality: 100))
        try f.write(
            "fer/train/happy/Training_11.jpg", GrayImage.encodeJPEG(Fixtures.face(1), width: 48, height: 48, quality: 100))
        try f.write("fer/test/sad/PublicTest_12.jpg", GrayImage.encodeJPEG(Fixtures.face(2), width: 48, height: 48, quality: 100))
        try f.write(
            "fer/test/neutral/PrivateTest_13.jpg", GrayImage.encodeJPEG(Fixtures.face(3), width: 48, height: 48, quality: 100))
        try extra(f)
    }

    /// JPEG is lossy: a decoded face is close to, not equal to, what was written.
    func expectNear(_ a: some Collection<UInt8>, _ b: [UInt8], within: Int = 6) {
        let worst = zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(a.count == b.count && worst <= within, "pixels differ by up to \(worst)")
    }

    @Test func readsFERFoldersByNameWithTheirSplits() throws {
        let f = try Fixtures()
        defer { f.remove() }
        try writeFER(f)
        let (data, _) = try FolderReader.readFER(f.root.appendingPathComponent("fer"), policy: .stop)
        #expect(data.labels == [.anger, .happiness, .neutral, .sadness])
        #expect(data.records.map(\.split) == [.training, .training, .privateTest, .publicTest])
        #expect(
            data.records.map(\.origin) == [
                "train/angry/Training_10.jpg", "train/happy/Training_11.jpg",
                "test/neutral/PrivateTest_13.jpg", "test/sad/PublicTest_12.jpg",
            ])
        expectNear(data.image(0), Fixtures.face(0))
        expectNear(data.image(2), Fixtures.face(3))
    }

    @Test func readsCK48WithSubjectsAndSequences() throws {
        let f = try Fixtures()
        defer { f.remove() }
        try f.write("CK+48/contempt/S138_008_00000009.png", GrayImage.encodePNG(Fixtures.face(4), width: 48, height: 48))
        try f.write("CK+48/happy/S005_001_00000011.png", GrayImage.encodePNG(Fixtures.face(5), width: 48, height: 48))
        let (data, _) = try FolderReader.readCK48(f.root.appendingPathComponent("CK+48"), policy: .stop)
        #expect(data.labels == [.contempt, .happiness])
        #expect(data.records.map(\.group) == ["CK+:S138", "CK+:S005"])
        #expect(data.records.map(\.sequence) == ["S138_008", "S005_001"])
        #expect(data.records.allSatisfy { $0.source == .ckplus && $0.split == nil })
        #expect(Array(data.image(0)) == Fixtures.face(4))  // PNG is lossless
        #expect(Array(data.image(1)) == Fixtures.face(5))
    }

    @Test func colourAndOtherSizesBecome48x48Gray() throws {
        let f = try Fixtures()
        defer { f.remove() }
        // A 96x96 RGB image of constant colour (R 200, G 100, B 50): gray = 0.299R + 0.587G + 0.114B ≈ 124.
        let rgb = [UInt8]((0..<(96 * 96)).flatMap { _ in [UInt8(200), 100, 50] })
        try f.write("CK+48/anger/S010_002_00000001.png", GrayImage.encodePNG(rgb, width: 96, height: 96, channels: 3))
        try f.write(
            "CK+48/contempt/S011_001_00000001.png", GrayImage.encodeJPEG(rgb, width: 96, height: 96, channels: 3, quality: 100))
        let (data, _) = try FolderReader.readCK48(f.root.appendingPathComponent("CK+48"), policy: .stop)
        #expect(data.count == 2)
        for i in 0..<2 {
            #expect(data.image(i).count == 48 * 48)
            #expect(data.image(i).allSatisfy { abs(Int($0) - 124) <= 3 }, "gray value \(data.image(i).first!)")
        }
    }

    @Test func brokenFilesAreNamedOrSkipped() throws {
        let f = try Fixtures()
        defer { f.remove() }
        try writeFER(f) { f in
            let good = try GrayImage.encodeJPEG(Fixtures.face(7), width: 48, height: 48)
            try f.write("fer/train/fear/Training_20.jpg", Array(good.prefix(good.count / 2)))  // truncated
            try f.write("fer/train/fear/Training_21.jpg", Array("not an image".utf8))  // stray text
        }
        let root = f.root.appendingPathComponent("fer")
        do {
            _ = try FolderReader.readFER(root, policy: .stop)
            Issue.record("a truncated JPEG must stop loading")
        } catch let error as DataError {
            #expect(error.location.hasSuffix("fer/train/fear/Training_20.jpg"))
            #expect(error.problem.hasPrefix("cannot decode the image"))
        }
        let (data, report) = try FolderReader.readFER(root, policy: .skip)
        #expect(data.count == 4)
        #expect(report.skipped == 2)
        #expect(
            report.offenders.map { URL(fileURLWithPath: $0.location).lastPathComponent } == [
                "Training_20.jpg", "Training_21.jpg",
            ])
        #expect(report.offenders[1].problem == "cannot decode the image (not a PNG or JPEG image)")
    }

    @Test func unknownAndEmptyClassFoldersAreErrors() throws {
        let f = try Fixtures()
        defer { f.remove() }
        try f.write("CK+48/contempt/S001_001_00000001.png", GrayImage.encodePNG(Fixtures.face(1), width: 48, height: 48))
        try f.write("CK+48/joy/S001_001_00000002.png", GrayImage.encodePNG(Fixtures.face(1), width: 48, height: 48))
        #expect(throws: DataError.self) { try FolderReader.readCK48(f.root.appendingPathComponent("CK+48"), policy: .stop) }
        try FileManager.default.removeItem(at: f.root.appendingPathComponent("CK+48/joy"))
        try f.mkdir("CK+48/fear")
        #expect(throws: DataError(f.root.appendingPathComponent("CK+48/fear").path, "empty class folder")) {
            try FolderReader.readCK48(f.root.appendingPathComponent("CK+48"), policy: .stop)
        }
    }

    @Test func locatorFindsEverySourceAndUsesOneCopyOfEach() throws {
        let f = try Fixtures()
        defer { f.remove() }
        try writeFER(f)
        let row = Fixtures.csvRow(label: "4", pixels: Fixtures.face(8), usage: "Training")
        try f.write("downloads/fer2013/fer2013.csv", "emotion,pixels,Usage\n\(row)\n")
        try f.write(
            "downloads/ck/ckextended.csv",
            "emotion,pixels,Usage\n7,\(Fixtures.face(1).map(String.init).joined(separator: " ")),Training\n")
        try f.write("CK+48/contempt/S001_001_00000001.png", GrayImage.encodePNG(Fixtures.face(1), width: 48, height: 48))
        let found = try DatasetLoader.locate(f.root)
        #expect(found.count == 4)
        let (data, report) = try DatasetLoader.load(dataDirectory: f.root, policy: .stop)
        // FER from the CSV (1 face), CK+ from CK+48 (1 face); the other copies are named, not merged.
        #expect(data.count == 2)
        #expect(Set(data.records.map(\.source)) == [.fer2013, .ckplus])
        #expect(report.notes.filter { $0.hasPrefix("using") }.count == 2)
        // A source given explicitly replaces what was found for it.
        let (explicit, _) = try DatasetLoader.load(
            dataDirectory: f.root, fer: f.root.appendingPathComponent("fer"), policy: .stop)
        #expect(explicit.records.filter { $0.source == .fer2013 }.count == 4)
        #expect(throws: DataError.self) {
            try DatasetLoader.load(dataDirectory: f.root.appendingPathComponent("CK+48/contempt"), policy: .stop)
        }
    }
}
