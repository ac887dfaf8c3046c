import FacemineBackends
@testable import FacemineBench
import FacemineDevice
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
        let targets = BackendTarget.all()
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
            #expect(mine.filter { $0.group == .train }.count == 4, "\(target): MyCNN and the three ResNet-18 stems trained")
            #expect(mine.filter { $0.group == .train }.allSatisfy { ($0.memoryBytes ?? 0) > 0 && ($0.imagesPerSecond ?? 0) > 0 })
            #expect(mine.filter { $0.group == .gemm || $0.group == .conv }.allSatisfy { ($0.gflops ?? 0) > 0 })
        }
        #expect(report.entries.contains { $0.backend == "opencl:0" && $0.name == "kernel compile (empty cache)" })
        let cpu = try #require(report.devices.first { $0.backend == "cpu" })
        #expect(
            (cpu.peakGFLOPS ?? 0) > 0 && cpu.peakHow?.contains("measured") == true, "the CPU's peak and how it was worked out")
        #expect((cpu.bandwidthGBs ?? 0) > 0 && cpu.bandwidthHow?.contains("measured") == true, "the CPU's bandwidth and how")
        let cpuOps = report.entries.filter { $0.backend == "cpu" && ($0.group == .gemm || $0.group == .conv) }
        #expect(cpuOps.allSatisfy { ($0.flopsPerByte ?? 0) > 0 && $0.memoryBound != nil && ($0.percentOfRoof ?? 0) > 0 })

        // Compared with itself every ratio is 1.
        let table = BenchTables.render(report, compare: decoded, style: .markdown)
        #expect(table.contains("### Comparison with test") && table.contains("| 1.00 |"))
        #expect(table.contains("### Roofline"))
    }

    /// What `--backend` and `--device` pick comes from the one place that knows the backends,
    /// with one line for what cannot be had.
    @Test func targetsAreNamedByTheBackendSelection() throws {
        #expect(BackendTarget.selectionNames == "all, cpu or opencl")
        #expect(try BackendTarget.selected("cpu", device: nil) == [.cpu])
        #expect(try BackendTarget.selected("all", device: nil) == BackendTarget.all())
        #expect(BackendTarget.cpu.label == "cpu" && !BackendTarget.cpu.compilesKernels)
        let opencl = try BackendTarget.selected("opencl", device: nil)
        #expect(!opencl.isEmpty && opencl.allSatisfy { $0.label.hasPrefix("opencl:") && $0.compilesKernels }, "PoCL in CI")
        #expect(throws: BackendOptionError("--backend must be all, cpu or opencl")) {
            try BackendTarget.selected("gpu", device: nil)
        }
        #expect(throws: BackendOptionError("--device needs --backend opencl")) { try BackendTarget.selected("cpu", device: 0) }
        #expect(throws: BackendOptionError.self) { try BackendTarget.selected("opencl", device: 99) }
    }

    /// Peak 100 GFLOP/s and 10 GB/s put the ridge at 10 FLOPs per byte: below it the roof is
    /// intensity x bandwidth, above it the peak.
    @Test func theRooflineJudgesEachOpAgainstTheRoofThatBindsIt() {
        let roofline = Roofline(peakGFLOPS: 100, bandwidthGBs: 10)
        var streaming = BenchEntry(backend: "cpu", group: .conv, name: "a", batch: 1, seconds: 1)
        streaming.gflops = 4
        roofline.annotate(&streaming, flops: 4e9, bytes: 2e9)
        #expect(streaming.memoryBound == true && streaming.flopsPerByte == 2 && streaming.gigabytesPerSecond == 2)
        #expect(abs((streaming.percentOfRoof ?? 0) - 20) < 1e-9, "4 GFLOP/s of a 2 x 10 = 20 GFLOP/s roof")
        var dense = BenchEntry(backend: "cpu", group: .gemm, name: "b", batch: 1, seconds: 1)
        dense.gflops = 80
        roofline.annotate(&dense, flops: 80e9, bytes: 4e9)
        #expect(dense.memoryBound == false && abs((dense.percentOfRoof ?? 0) - 80) < 1e-9)
        // Without a measured bandwidth nothing is classified.
        var unknown = BenchEntry(backend: "opencl:0", group: .gemm, name: "c", batch: 1, seconds: 1)
        unknown.gflops = 1
        Roofline(peakGFLOPS: 100, bandwidthGBs: nil).annotate(&unknown, flops: 1e9, bytes: 1e9)
        #expect(unknown.memoryBound == nil && unknown.percentOfRoof == nil && unknown.flopsPerByte == 1)
    }

    /// A 1x1 stride-2 kernel reads the cache lines that hold every second pixel of every second
    /// row: half of x where a row fills whole lines, all of it where rows share lines; a 3x3
    /// kernel reads all of x; dX is written whole.
    @Test func convolutionTrafficCountsWhatEachPassMoves() {
        let wide = ConvGeometry(batch: 2, inChannels: 4, height: 48, width: 48, outChannels: 6, kernel: 1, stride: 2, padding: 0)
        #expect(wide.forwardBytes == 4 * Double(2 * 4 * 48 * 48 / 2 + 6 * 4 + 2 * 6 * 24 * 24))
        let narrow = ConvGeometry(
            batch: 2, inChannels: 4, height: 12, width: 12, outChannels: 6, kernel: 1, stride: 2, padding: 0)
        #expect(narrow.forwardBytes == 4 * Double(2 * 4 * 144 + 6 * 4 + 2 * 6 * 36))
        let pointwise = ConvGeometry(
            batch: 2, inChannels: 4, height: 8, width: 8, outChannels: 6, kernel: 1, stride: 2, padding: 0)
        #expect(pointwise.inputGradientBytes == 4 * Double(2 * 6 * 16 + 6 * 4 + 2 * 4 * 64))
        let unstrided = ConvGeometry(
            batch: 2, inChannels: 4, height: 8, width: 8, outChannels: 6, kernel: 1, stride: 1, padding: 0)
        #expect(unstrided.weightGradientBytes == 4 * Double(2 * 4 * 64 + 2 * 6 * 64 + 6 * 4))
        let full = ConvGeometry(batch: 2, inChannels: 4, height: 8, width: 8, outChannels: 6, kernel: 3, stride: 1, padding: 1)
        #expect(full.weightGradientBytes == 4 * Double(2 * 4 * 64 + 2 * 6 * 64 + 6 * 4 * 9))
        #expect(full.backwardBytes == 4 * Double(2 * 4 * 64 + 2 * 6 * 64 + 2 * 6 * 4 * 9 + 2 * 4 * 64))
    }

    @Test func aFileOfAnotherSchemaIsRefusedWithAReason() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json")
        try Data(#"{"schema":"other/9","created":"","command":"","devices":[],"entries":[]}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: BenchError.self) { try BenchReport.read(url) }
        do { _ = try BenchReport.read(url) } catch { #expect("\(error)".contains("schema other/9")) }
    }
}
