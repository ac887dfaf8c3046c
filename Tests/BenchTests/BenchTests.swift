import FacemineBackends
import FacemineBench
import Foundation
import Testing

/// `facemine bench` in CI: the tiny configuration runs on every backend here (the CPU backend
/// and PoCL), and its JSON round-trips and holds what the schema promises. Nothing is timed
/// against a bar: CI machines are too noisy for that.
@Suite struct BenchTests {
    @Test func quickRunCoversEveryBackendAndItsJSONValidates() throws {
        var options = BenchOptions.quick
        options.threads = 2
        var lines: [String] = []
        let targets = Bench.allTargets()
        #expect(targets.count >= 2, "the CPU backend and at least one OpenCL device (PoCL in CI)")
        let report = try Bench(options: options) { lines.append($0) }.run(targets, command: "test")
        #expect(!lines.isEmpty, "progress is reported")

        let data = try JSONEncoder().encode(report)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let decoded = try BenchReport.read(url)
        #expect(decoded.schema == BenchReport.currentSchema && decoded.entries == report.entries)

        for target in ["cpu", "opencl:0"] {
            let mine = report.entries.filter { $0.backend == target }
            for group in BenchEntry.Group.allCases {
                #expect(mine.contains { $0.group == group }, "\(target) has \(group) entries")
            }
            #expect(mine.allSatisfy { $0.seconds > 0 && $0.seconds.isFinite }, "\(target): every time is positive")
            #expect(mine.filter { $0.group == .train }.count == 3, "\(target): three models trained")
            #expect(mine.filter { $0.group == .train }.allSatisfy { ($0.memoryBytes ?? 0) > 0 && ($0.imagesPerSecond ?? 0) > 0 })
            #expect(mine.filter { $0.group == .gemm || $0.group == .conv }.allSatisfy { ($0.gflops ?? 0) > 0 })
        }
        #expect(report.entries.contains { $0.backend == "opencl:0" && $0.name == "kernel compile (empty cache)" })
        let cpu = try #require(report.devices.first { $0.backend == "cpu" })
        #expect((cpu.peakGFLOPS ?? 0) > 0 && cpu.peakHow?.contains("measured") == true, "the CPU's peak and how it was worked out")

        // Compared with itself every ratio is 1.
        let table = BenchTables.render(report, compare: decoded, style: .markdown)
        #expect(table.contains("### Comparison with test") && table.contains("| 1.00 |"))
    }

    @Test func aFileOfAnotherSchemaIsRefusedWithAReason() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json")
        try Data(#"{"schema":"other/9","created":"","command":"","devices":[],"entries":[]}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: BenchError.self) { try BenchReport.read(url) }
        do { _ = try BenchReport.read(url) } catch { #expect("\(error)".contains("schema other/9")) }
    }
}
