import ArgumentParser
import FacemineData
import FacemineRandom
import Foundation

/// Times facemine's FER-2013 CSV reader on a full-size file (35,887 rows, generated in the
/// exact format) against pandas `read_csv` + numpy on the same file, in one run.
@main
struct CSVBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facemine-csvbench",
        abstract: "Benchmark parsing a full-size fer2013.csv: facemine vs pandas + numpy.")

    @Option(help: "CSV to parse (default: generate a full-size one in a temporary folder).") var file: String?
    @Option(help: "Measured repeats (the median is reported).") var repeats = 5
    @Option(help: "Python interpreter with pandas and numpy.") var python = "python3"

    func run() throws {
        let url: URL
        if let file {
            url = URL(fileURLWithPath: file)
        } else {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-fer2013-full.csv")
            try Self.writeFullSizeCSV(url)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        print("file: \(url.path) (\(size / 1_000_000) MB)")

        var rows = 0
        var times: [Double] = []
        for round in 0..<(repeats + 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            let (faces, _) = try CSVReader.read(url, source: .fer2013, policy: .stop)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rows = faces.count
            if round > 0 { times.append(seconds) }  // round 0 warms the file cache
        }
        let facemine = times.sorted()[times.count / 2]
        print(
            "facemine: \(rows) rows in \(String(format: "%.3f", facemine)) s (median of \(repeats), \(ProcessInfo.processInfo.activeProcessorCount) threads)"
        )

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../benchmarks/pandas/read_fer_csv.py").standardized
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path, url.path, String(repeats)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let pandas = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            print(
                "pandas: not run (\(output.split(separator: "\n").last ?? "no output")); install pandas and numpy for the comparison"
            )
            return
        }
        print("pandas + numpy: \(String(format: "%.3f", pandas)) s (median of \(repeats))")
        print("facemine is \(String(format: "%.1f", pandas / facemine))x faster")
    }

    /// 35,887 rows of random pixels with FER-2013's label and Usage mix (28,709 / 3,589 / 3,589).
    static func writeFullSizeCSV(_ url: URL) throws {
        var rng = SeededGenerator(seed: 2013)
        var text = "emotion,pixels,Usage\n"
        text.reserveCapacity(300_000_000)
        let usages = [(28_709, "Training"), (3_589, "PublicTest"), (3_589, "PrivateTest")]
        for (count, usage) in usages {
            for _ in 0..<count {
                text += String(rng.next() % 7) + ","
                for i in 0..<FaceDataset.pixelsPerImage {
                    if i > 0 { text += " " }
                    text += String(rng.next() % 256)
                }
                text += "," + usage + "\n"
            }
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
