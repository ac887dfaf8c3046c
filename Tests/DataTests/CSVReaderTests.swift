import FacemineData
import Foundation
import Testing

@Suite struct CSVReaderTests {
    @Test func readsEveryRowOfAFERFile() throws {
        let f = try Fixtures()
        defer { f.remove() }
        let rows = [
            Fixtures.csvRow(label: "0", pixels: Fixtures.face(0), usage: "Training"),
            Fixtures.csvRow(label: "6", pixels: Fixtures.face(1), usage: "PublicTest"),
            Fixtures.csvRow(label: "3", pixels: Fixtures.face(2), usage: "PrivateTest"),
        ]
        // CRLF line ends and a trailing blank line, as Windows tools write them.
        let url = try f.write("fer2013.csv", "emotion,pixels,Usage\r\n" + rows.joined(separator: "\r\n") + "\r\n\r\n")
        let (data, report) = try CSVReader.read(url, source: .fer2013, policy: .stop)
        #expect(report.skipped == 0)
        #expect(data.count == 3)
        #expect(data.labels == [.anger, .neutral, .happiness])
        #expect(data.records.map(\.split) == [.training, .publicTest, .privateTest])
        #expect(data.records.allSatisfy { $0.source == .fer2013 })
        #expect(data.records[1].origin == "fer2013.csv line 3")
        for i in 0..<3 { #expect(Array(data.image(i)) == Fixtures.face(i)) }
    }

    @Test func ckLabelsIncludeContemptAndQuotedFieldsAreAccepted() throws {
        let f = try Fixtures()
        defer { f.remove() }
        let pixels = Fixtures.face(5).map(String.init).joined(separator: " ")
        let url = try f.write("ckextended.csv", "emotion,pixels,Usage\n7,\"\(pixels)\",Training\n")
        let (data, _) = try CSVReader.read(url, source: .ckplus, policy: .stop)
        #expect(data.labels == [.contempt])
        #expect(data.records[0].source == .ckplus)
        #expect(data.records[0].split == .training)
        #expect(data.records[0].origin == "ckextended.csv line 2")
        #expect(Array(data.image(0)) == Fixtures.face(5))
        // The same label is out of range for FER-2013, which has no contempt.
        let fer = try f.write("fer2013.csv", "emotion,pixels,Usage\n7,\(pixels),Training\n")
        #expect(throws: DataError("fer2013.csv line 2", "emotion 7 is out of range 0...6")) {
            try CSVReader.read(fer, source: .fer2013, policy: .stop)
        }
    }

    struct BrokenRow: Sendable, CustomTestStringConvertible {
        let row: String
        let problem: String
        var testDescription: String { problem }
    }

    static let brokenRows: [BrokenRow] = {
        let good = Fixtures.face(9).map(String.init)
        return [
            BrokenRow(
                row: "2,\(good.dropLast().joined(separator: " ")),Training", problem: "expected 2304 pixel values, found 2303"),
            BrokenRow(
                row: "2,\((good + ["7"]).joined(separator: " ")),Training", problem: "expected 2304 pixel values, found 2305"),
            BrokenRow(
                row: "2,\((["12a"] + good.dropFirst()).joined(separator: " ")),Training",
                problem: "pixel 1 is not a number (\"12a\")"),
            BrokenRow(
                row: "2,\((["256"] + good.dropFirst()).joined(separator: " ")),Training",
                problem: "pixel 1 is out of range 0...255"),
            BrokenRow(row: "x,\(good.joined(separator: " ")),Training", problem: "emotion \"x\" is not a whole number"),
            BrokenRow(row: "-1,\(good.joined(separator: " ")),Training", problem: "emotion \"-1\" is not a whole number"),
            BrokenRow(
                row: "2,\(good.joined(separator: " ")),Validation",
                problem: "Usage \"Validation\" is not Training, PublicTest or PrivateTest"),
            BrokenRow(row: "2,\(good.joined(separator: " "))", problem: "expected 3 columns, found 2"),
        ]
    }()

    @Test(arguments: brokenRows)
    func aBrokenRowStopsWithFileAndLine(_ broken: BrokenRow) throws {
        let f = try Fixtures()
        defer { f.remove() }
        let ok = Fixtures.csvRow(label: "1", pixels: Fixtures.face(1), usage: "Training")
        let url = try f.write("fer2013.csv", "emotion,pixels,Usage\n\(ok)\n\(broken.row)\n\(ok)\n")
        #expect(throws: DataError("fer2013.csv line 3", broken.problem)) {
            try CSVReader.read(url, source: .fer2013, policy: .stop)
        }
        // --skip-bad keeps the good rows, counts the bad one and names it.
        let (data, report) = try CSVReader.read(url, source: .fer2013, policy: .skip)
        #expect(data.count == 2)
        #expect(data.labels == [.disgust, .disgust])
        #expect(report.skipped == 1)
        #expect(report.offenders == [DataError("fer2013.csv line 3", broken.problem)])
        #expect(Array(data.image(1)) == Fixtures.face(1))
    }

    @Test func headerAndEmptyFileProblemsAreClear() throws {
        let f = try Fixtures()
        defer { f.remove() }
        let empty = try f.write("fer2013.csv", "")
        #expect(throws: DataError("fer2013.csv", "the file is empty")) {
            try CSVReader.read(empty, source: .fer2013, policy: .stop)
        }
        let wrong = try f.write("other.csv", "label,image\n1,2\n")
        #expect(throws: DataError("other.csv line 1", "expected a header with emotion and pixels columns, found \"label,image\""))
        {
            try CSVReader.read(wrong, source: .fer2013, policy: .stop)
        }
        // A headerless file starts with 2,304 pixel values: the message quotes 80 characters of them.
        let headerless = try f.write(
            "pixels.csv", "0," + Fixtures.face(0).map(String.init).joined(separator: " ") + ",Training\n")
        do {
            try CSVReader.read(headerless, source: .fer2013, policy: .stop)
            Issue.record("a headerless file was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("pixels.csv line 1") && message.hasSuffix("...\"") && message.count < 200, "\(message)")
        }
        let missing = f.root.appendingPathComponent("nope.csv")
        #expect(throws: DataError.self) { try CSVReader.read(missing, source: .fer2013, policy: .stop) }
    }
}
