import Dispatch
import Foundation

/// Reads `fer2013.csv` and `ckextended.csv`: a header naming `emotion`, `pixels` and `Usage`
/// columns, then one face per line with 2304 space-separated values 0...255.
///
/// The full FER-2013 file is about 290 MB of digits. It is memory-mapped, cut into lines in one
/// pass, and the lines are parsed in parallel straight from the bytes: no String per row or
/// pixel, each face written into its slot of the output buffer.
public enum CSVReader {
    public static func read(
        _ url: URL, source: DataSource, policy: BadInputPolicy,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> (FaceDataset, LoadReport) {
        let name = url.lastPathComponent
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw DataError(url.path, "cannot read the file (\(error.localizedDescription))")
        }
        return try data.withUnsafeBytes { raw in
            try parse(raw.bindMemory(to: UInt8.self), name: name, source: source, policy: policy, threads: threads)
        }
    }

    /// Parses CSV bytes; `name` is used in messages.
    public static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, name: String, source: DataSource,
        policy: BadInputPolicy, threads: Int
    ) throws -> (FaceDataset, LoadReport) {
        let lines = lineRanges(bytes)
        guard let header = lines.first else { throw DataError(name, "the file is empty") }
        let columns = try Columns(header: bytes[header], name: name)
        let maxLabel = source == .ckplus ? Emotion.contempt.rawValue : Emotion.neutral.rawValue
        let rows = Array(lines.dropFirst())
        let perImage = FaceDataset.pixelsPerImage

        var pixels = [UInt8](repeating: 0, count: rows.count * perImage)
        var outcomes = [RowOutcome](repeating: .blank, count: rows.count)
        pixels.withUnsafeMutableBufferPointer { pixelBuffer in
            outcomes.withUnsafeMutableBufferPointer { outcomeBuffer in
                let chunks = max(1, min(threads, rows.count / 256))
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let range = (chunk * rows.count / chunks)..<((chunk + 1) * rows.count / chunks)
                    for i in range {
                        outcomeBuffer[i] = parseRow(
                            bytes, rows[i], columns: columns, maxLabel: maxLabel,
                            into: pixelBuffer.baseAddress! + i * perImage)
                    }
                }
            }
        }

        var report = LoadReport()
        var records: [FaceRecord] = []
        var keep: [Int] = []
        records.reserveCapacity(rows.count)
        for (i, outcome) in outcomes.enumerated() {
            let line = i + 2  // 1-based, after the header
            switch outcome {
            case .blank:
                continue
            case .bad(let problem):
                let error = DataError("\(name) line \(line)", problem)
                if policy == .stop { throw error }
                report.skip(error)
            case .face(let label, let split):
                keep.append(i)
                records.append(
                    FaceRecord(
                        label: Emotion(rawValue: label)!, source: source, split: split,
                        origin: "\(name) line \(line)"))
            }
        }
        if keep.count < rows.count {
            // Close the gaps left by blank and skipped rows.
            for (slot, i) in keep.enumerated() where slot != i {
                pixels.withUnsafeMutableBufferPointer { p in
                    (p.baseAddress! + slot * perImage).update(from: p.baseAddress! + i * perImage, count: perImage)
                }
            }
            pixels.removeLast((rows.count - keep.count) * perImage)
        }
        if records.isEmpty && report.skipped == 0 { throw DataError(name, "no rows after the header") }
        return (FaceDataset(pixels: pixels, records: records), report)
    }

    enum RowOutcome {
        case blank
        case bad(String)
        case face(label: Int, split: OriginalSplit?)
    }

    /// Positions of the emotion, pixels and (optional) Usage columns.
    struct Columns {
        let emotion: Int
        let pixels: Int
        let usage: Int?
        let count: Int

        init(header: Slice<UnsafeBufferPointer<UInt8>>, name: String) throws {
            let names = String(decoding: header, as: UTF8.self)
                .split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" \t\r")).lowercased() }
            guard let emotion = names.firstIndex(of: "emotion"), let pixels = names.firstIndex(of: "pixels") else {
                let found = names.joined(separator: ",")
                throw DataError(
                    "\(name) line 1",
                    "expected a header with emotion and pixels columns, found \""
                        + (found.count > 80 ? found.prefix(77) + "..." : found) + "\"")
            }
            self.emotion = emotion
            self.pixels = pixels
            self.usage = names.firstIndex(of: "usage")
            self.count = names.count
        }
    }

    /// Start..<end of every line, without its "\n" or "\r\n".
    static func lineRanges(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        let base = bytes.baseAddress!
        while start < bytes.count {
            let found = memchr(base + start, 0x0A, bytes.count - start)
            let end = found.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base } ?? bytes.count
            var trimmed = end
            if trimmed > start && bytes[trimmed - 1] == 0x0D { trimmed -= 1 }
            ranges.append(start..<trimmed)
            start = end + 1
        }
        return ranges
    }

    static func parseRow(
        _ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, columns: Columns, maxLabel: Int,
        into face: UnsafeMutablePointer<UInt8>
    ) -> RowOutcome {
        if line.allSatisfy({ bytes[$0] == 0x20 || bytes[$0] == 0x09 }) { return .blank }
        // Split on commas; fields may be wrapped in double quotes.
        var fields: [Range<Int>] = []
        fields.reserveCapacity(columns.count)
        var start = line.lowerBound
        for i in line where bytes[i] == 0x2C {
            fields.append(unquoted(bytes, start..<i))
            start = i + 1
        }
        fields.append(unquoted(bytes, start..<line.upperBound))
        guard fields.count == columns.count else {
            return .bad("expected \(columns.count) columns, found \(fields.count)")
        }
        guard let label = integer(bytes, fields[columns.emotion]) else {
            return .bad("emotion \"\(text(bytes, fields[columns.emotion]))\" is not a whole number")
        }
        guard label >= 0 && label <= maxLabel else {
            return .bad("emotion \(label) is out of range 0...\(maxLabel)")
        }
        var split: OriginalSplit?
        if let usage = columns.usage {
            let value = text(bytes, fields[usage])
            guard let s = OriginalSplit(rawValue: value) else {
                return .bad("Usage \"\(value)\" is not Training, PublicTest or PrivateTest")
            }
            split = s
        }
        // Pixels: exactly 2304 integers 0...255 separated by spaces.
        let pixelField = fields[columns.pixels]
        var count = 0
        var i = pixelField.lowerBound
        let end = pixelField.upperBound
        while i < end {
            while i < end && bytes[i] == 0x20 { i += 1 }
            if i == end { break }
            var value = 0
            var digits = 0
            while i < end && bytes[i] != 0x20 {
                let d = Int(bytes[i]) - 48
                guard d >= 0 && d <= 9 else {
                    return .bad("pixel \(count + 1) is not a number (\"\(token(bytes, at: i, end: end))\")")
                }
                value = value * 10 + d
                digits += 1
                i += 1
                if digits > 3 { break }
            }
            guard value <= 255 && digits <= 3 else { return .bad("pixel \(count + 1) is out of range 0...255") }
            if count < FaceDataset.pixelsPerImage { face[count] = UInt8(value) }
            count += 1
        }
        guard count == FaceDataset.pixelsPerImage else {
            return .bad("expected \(FaceDataset.pixelsPerImage) pixel values, found \(count)")
        }
        return .face(label: label, split: split)
    }

    static func unquoted(_ bytes: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi && (bytes[lo] == 0x20 || bytes[lo] == 0x09) { lo += 1 }
        while hi > lo && (bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09) { hi -= 1 }
        if hi - lo >= 2 && bytes[lo] == 0x22 && bytes[hi - 1] == 0x22 { return (lo + 1)..<(hi - 1) }
        return lo..<hi
    }

    static func integer(_ bytes: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        guard !r.isEmpty, r.count <= 9 else { return nil }
        var value = 0
        for i in r {
            let d = Int(bytes[i]) - 48
            guard d >= 0 && d <= 9 else { return nil }
            value = value * 10 + d
        }
        return value
    }

    static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[r.lowerBound..<min(r.upperBound, r.lowerBound + 40)]), as: UTF8.self)
    }

    static func token(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> String {
        var lo = i, hi = i
        while lo > 0 && bytes[lo - 1] != 0x20 && bytes[lo - 1] != 0x2C && i - lo < 20 { lo -= 1 }
        while hi < end && bytes[hi] != 0x20 && hi - i < 20 { hi += 1 }
        return text(bytes, lo..<hi)
    }
}
