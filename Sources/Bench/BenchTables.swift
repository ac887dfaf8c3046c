import Foundation

/// The report as tables: one per group, the backends side by side, and with `--compare` the
/// ratios against another report. The same rows render as Markdown (docs/BENCHMARKS.md) or as
/// aligned plain text (a terminal).
public enum BenchTables {
    public enum Style { case markdown, terminal }

    public static func render(_ report: BenchReport, compare other: BenchReport? = nil, style: Style) -> String {
        var out = ""
        let backends = report.devices.map(\.backend)
        out += heading("Devices", style)
        out += table(
            ["backend", "device", "peak GFLOP/s", "how", "bandwidth GB/s", "how"],
            report.devices.map {
                [
                    $0.backend, $0.description, $0.peakGFLOPS.map { String(format: "%.0f", $0) } ?? "-", $0.peakHow ?? "-",
                    $0.bandwidthGBs.map { String(format: "%.1f", $0) } ?? "-", $0.bandwidthHow ?? "-",
                ]
            }, style)
        for device in report.devices {
            guard let tuned = device.tunedKernels, !tuned.isEmpty else { continue }
            out += heading("Kernels timed on \(device.backend) (kept per device; the first run of a shape times them)", style)
            out += table(["what", "fastest"], tuned.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }, style)
        }
        for group in BenchEntry.Group.allCases {
            let rows = keys(report.entries.filter { $0.group == group })
            guard !rows.isEmpty else { continue }
            out += heading(title(group), style)
            var header = ["what", "batch"]
            for b in backends { header += columns(group).map { "\(b) \($0)" } }
            let byKey = Dictionary(grouping: report.entries, by: { "\($0.backend)|\($0.key)" })
            let body = rows.map { (key, sample) -> [String] in
                var row = [sample.name, sample.batch == 0 ? "-" : "\(sample.batch)"]
                for b in backends {
                    let e = byKey["\(b)|\(key)"]?.first
                    row += cells(group, e)
                }
                return row
            }
            out += table(header, body, style)
        }
        out += roofline(report, style)
        if let other { out += comparison(report, other, style) }
        return out
    }

    /// Per backend, the GEMM and convolution rows on each side of the ridge: how many
    /// compute-bound ones reach 70% of the FP32 peak, and how close the memory-bound ones come
    /// to the bandwidth.
    static func roofline(_ report: BenchReport, _ style: Style) -> String {
        var rows: [[String]] = []
        for device in report.devices {
            guard let peak = device.peakGFLOPS, let bandwidth = device.bandwidthGBs else { continue }
            let ops = report.entries.filter { $0.backend == device.backend && $0.memoryBound != nil }
            guard !ops.isEmpty else { continue }
            let compute = ops.filter { $0.memoryBound == false }, memory = ops.filter { $0.memoryBound == true }
            let atPeak = compute.filter { ($0.percentOfPeak ?? 0) >= 70 }.count
            let shares = memory.compactMap(\.percentOfRoof).sorted()
            let median = shares.isEmpty ? "-" : String(format: "%.0f%%", shares[shares.count / 2])
            rows.append([
                device.backend, String(format: "%.1f", peak / bandwidth), "\(compute.count)",
                "\(atPeak) of \(compute.count)", "\(memory.count)", median,
            ])
        }
        guard !rows.isEmpty else { return "" }
        return heading("Roofline (GEMM and convolution rows)", style)
            + table(
                ["backend", "ridge flop/B", "compute-bound", ">= 70% of peak", "memory-bound", "median % of bandwidth"],
                rows, style)
    }

    /// Rows present in both reports: this run's rate, the other's, and this / other
    /// (above 1: this run is faster). Each of this run's backends is matched with the other
    /// report's entry of the same backend, or else its first backend (another tool).
    static func comparison(_ report: BenchReport, _ other: BenchReport, _ style: Style) -> String {
        let theirs = Dictionary(grouping: other.entries, by: \.key)
        var rows: [[String]] = []
        for e in report.entries where e.group != .startup {
            guard let candidates = theirs[e.key],
                let match = candidates.first(where: { $0.backend == e.backend }) ?? candidates.first
            else { continue }
            rows.append([
                title(e.group), e.name, "\(e.batch)", e.backend, match.backend,
                rate(e), rate(match), String(format: "%.2f", match.seconds / e.seconds),
            ])
        }
        guard !rows.isEmpty else { return heading("Comparison", style) + "no entries in common\n" }
        return heading("Comparison with \(other.command)", style)
            + table(["group", "what", "batch", "this", "other", "this rate", "other rate", "this / other"], rows, style)
    }

    static func title(_ group: BenchEntry.Group) -> String {
        switch group {
        case .startup: return "Start-up and first-call costs (one run each)"
        case .gemm: return "GEMM (the GEMM-equivalent of each convolution)"
        case .conv: return "Convolution"
        case .batchnorm: return "Batch norm (memory-bound)"
        case .train: return "Training step (forward + backward + Adam)"
        case .inference: return "Inference (evaluation-mode forward)"
        }
    }

    static func columns(_ group: BenchEntry.Group) -> [String] {
        switch group {
        case .startup: return ["s"]
        case .gemm, .conv: return ["ms", "GFLOP/s", "% peak", "flop/B", "GB/s", "bound", "% roof"]
        case .batchnorm: return ["ms", "GB/s"]
        case .train: return ["images/s", "ms", "memory MB"]
        case .inference: return ["images/s", "ms"]
        }
    }

    static func cells(_ group: BenchEntry.Group, _ e: BenchEntry?) -> [String] {
        guard let e else { return columns(group).map { _ in "-" } }
        let ms = String(format: "%.2f", e.seconds * 1e3)
        switch group {
        case .startup: return [String(format: "%.3f", e.seconds)]
        case .gemm, .conv:
            return [
                ms, e.gflops.map { String(format: "%.1f", $0) } ?? "-",
                e.percentOfPeak.map { String(format: "%.0f%%", $0) } ?? "-",
                e.flopsPerByte.map { String(format: "%.1f", $0) } ?? "-",
                e.gigabytesPerSecond.map { String(format: "%.1f", $0) } ?? "-",
                e.memoryBound.map { $0 ? "memory" : "compute" } ?? "-",
                e.percentOfRoof.map { String(format: "%.0f%%", $0) } ?? "-",
            ]
        case .batchnorm: return [ms, e.gigabytesPerSecond.map { String(format: "%.1f", $0) } ?? "-"]
        case .train:
            return [
                e.imagesPerSecond.map { String(format: "%.1f", $0) } ?? "-", ms,
                e.memoryBytes.map { String(format: "%.0f", Double($0) / 1e6) } ?? "-",
            ]
        case .inference: return [e.imagesPerSecond.map { String(format: "%.1f", $0) } ?? "-", ms]
        }
    }

    static func rate(_ e: BenchEntry) -> String {
        if let v = e.imagesPerSecond { return String(format: "%.1f images/s", v) }
        if let v = e.gflops { return String(format: "%.1f GFLOP/s", v) }
        if let v = e.gigabytesPerSecond { return String(format: "%.1f GB/s", v) }
        return String(format: "%.3f ms", e.seconds * 1e3)
    }

    /// Distinct rows in first-seen order.
    static func keys(_ entries: [BenchEntry]) -> [(String, BenchEntry)] {
        var seen = Set<String>()
        return entries.compactMap { seen.insert($0.key).inserted ? ($0.key, $0) : nil }
    }

    static func heading(_ text: String, _ style: Style) -> String {
        style == .markdown ? "\n### \(text)\n\n" : "\n\(text)\n"
    }

    static func table(_ header: [String], _ rows: [[String]], _ style: Style) -> String {
        switch style {
        case .markdown:
            let align = header.indices.map { $0 < 2 ? "---" : "---:" }
            return ([header, align] + rows).map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n") + "\n"
        case .terminal:
            let all = [header] + rows
            let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
            return all.map { row in
                row.enumerated().map { i, cell in
                    let pad = String(repeating: " ", count: widths[i] - cell.count)
                    return i < 2 ? cell + pad : pad + cell
                }.joined(separator: "  ")
            }.joined(separator: "\n") + "\n"
        }
    }
}
