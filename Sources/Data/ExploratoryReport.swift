import Foundation

/// `facemine eda`: the seed project's exploratory notebook as files. Class distribution per
/// source and combined (Markdown table and SVG bar chart), a grid of sample faces per class for
/// each source (PNG), a summary (counts, split sizes, imbalance ratio), and an `index.html`
/// that shows them all. Self-contained: no scripts, no network.
public enum ExploratoryReport {
    /// Writes the report into `folder` (created if needed); returns the files written.
    @discardableResult
    public static func write(_ dataset: FaceDataset, to folder: URL, title: String) throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw DataError(folder.path, "cannot create the output folder (\(folderCreationReason(folder, error)))")
        }
        var written: [URL] = []
        func save(_ name: String, _ bytes: [UInt8]) throws {
            let url = folder.appendingPathComponent(name)
            do {
                try Data(bytes).write(to: url, options: .atomic)
            } catch {
                throw DataError(url.path, "cannot write the file (\(systemReason(error)))")
            }
            written.append(url)
        }
        let distribution = distributionTable(dataset)
        let summary = summaryTable(dataset)
        try save("class_distribution.md", Array(("# Class distribution\n\n" + distribution).utf8))
        try save("summary.md", Array(("# Summary\n\n" + summary).utf8))
        try save("class_distribution.svg", Array(barChart(dataset).utf8))
        var sheets: [(DataSource, String)] = []
        for source in dataset.sources {
            let indices = dataset.records.indices.filter { dataset.records[$0].source == source }
            let sheet = ContactSheet.byClass(dataset.subset(indices), perRow: 10)
            let name =
                "samples_\(source.rawValue.lowercased().replacingOccurrences(of: "+", with: "plus").replacingOccurrences(of: "-", with: "")).png"
            try save(name, GrayImage.encodePNG(sheet.pixels, width: sheet.width, height: sheet.height))
            sheets.append((source, name))
        }
        try save("index.html", Array(html(title: title, distribution: distribution, summary: summary, sheets: sheets).utf8))
        return written
    }

    /// Class | one column per source | all | share.
    public static func distributionTable(_ dataset: FaceDataset) -> String {
        let sources = dataset.sources
        let perSource = sources.map { dataset.classCounts(source: $0) }
        let total = dataset.classCounts, n = max(dataset.count, 1)
        var lines = [
            "| class | " + sources.map(\.rawValue).joined(separator: " | ") + " | all | share |",
            "|---|" + sources.map { _ in "---:|" }.joined() + "---:|---:|",
        ]
        for e in Emotion.allCases {
            let cells = perSource.map { String($0[e.rawValue]) }
            lines.append(
                "| \(e.name) | " + cells.joined(separator: " | ")
                    + " | \(total[e.rawValue]) | \(String(format: "%.1f%%", 100 * Double(total[e.rawValue]) / Double(n))) |")
        }
        lines.append(
            "| **total** | " + perSource.map { String($0.reduce(0, +)) }.joined(separator: " | ") + " | \(dataset.count) | 100% |"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    public static func summaryTable(_ dataset: FaceDataset) -> String {
        let counts = dataset.classCounts
        let present = counts.filter { $0 > 0 }
        let largest = counts.indices.max { counts[$0] < counts[$1] }!
        let smallest = counts.indices.filter { counts[$0] > 0 }.min { counts[$0] < counts[$1] } ?? largest
        var splits: [String] = []
        for s in OriginalSplit.allCases {
            let n = dataset.records.filter { $0.split == s }.count
            if n > 0 { splits.append("\(s.rawValue) \(n)") }
        }
        let unsplit = dataset.records.filter { $0.split == nil }.count
        if unsplit > 0 { splits.append("no original split \(unsplit)") }
        let groups = Set(dataset.records.compactMap(\.group)).count
        let rows: [(String, String)] = [
            ("faces", "\(dataset.count)"),
            (
                "sources",
                dataset.sources.map { "\($0.rawValue) \(dataset.classCounts(source: $0).reduce(0, +))" }.joined(separator: ", ")
            ),
            ("classes present", "\(present.count) of \(Emotion.count)"),
            ("original splits", splits.joined(separator: ", ")),
            ("groups (subjects, identities)", "\(groups)"),
            ("largest class", "\(Emotion(rawValue: largest)!.name) (\(counts[largest]))"),
            ("smallest class", "\(Emotion(rawValue: smallest)!.name) (\(counts[smallest]))"),
            (
                "imbalance ratio (largest / smallest)",
                String(format: "%.1f", Double(counts[largest]) / Double(max(counts[smallest], 1)))
            ),
        ]
        return (["| | |", "|---|---|"] + rows.map { "| \($0.0) | \($0.1) |" }).joined(separator: "\n") + "\n"
    }

    /// Grouped bars: one group per class, one bar per source, with a legend and count labels.
    public static func barChart(_ dataset: FaceDataset) -> String {
        let sources = dataset.sources
        let counts = sources.map { dataset.classCounts(source: $0) }
        let top = max(1, counts.flatMap { $0 }.max() ?? 1)
        let colours = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"]
        let width = 760.0, height = 360.0, left = 60.0, bottom = 300.0, plotHeight = 250.0
        let groupWidth = (width - left - 20) / Double(Emotion.count)
        let barWidth = (groupWidth - 12) / Double(max(sources.count, 1))
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
                + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">",
            "<title>Faces per class and source</title>",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(width - 10)\" y2=\"\(bottom)\" stroke=\"#333\"/>",
        ]
        for tick in 0...4 {
            let value = Double(top) * Double(tick) / 4, y = bottom - plotHeight * Double(tick) / 4
            svg.append("<text x=\"\(left - 6)\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(Int(value))</text>")
            svg.append("<line x1=\"\(left)\" y1=\"\(fmt(y))\" x2=\"\(width - 10)\" y2=\"\(fmt(y))\" stroke=\"#ddd\"/>")
        }
        for e in Emotion.allCases {
            let x0 = left + Double(e.rawValue) * groupWidth + 6
            for (s, source) in sources.enumerated() {
                let n = counts[s][e.rawValue], h = plotHeight * Double(n) / Double(top)
                let x = x0 + Double(s) * barWidth
                svg.append(
                    "<rect class=\"bar\" data-class=\"\(e.name)\" data-source=\"\(source.rawValue)\" data-count=\"\(n)\" "
                        + "x=\"\(fmt(x))\" y=\"\(fmt(bottom - h))\" width=\"\(fmt(barWidth - 1))\" height=\"\(fmt(h))\" fill=\"\(colours[s % colours.count])\">"
                        + "<title>\(e.name), \(source.rawValue): \(n)</title></rect>")
            }
            svg.append(
                "<text x=\"\(fmt(x0 + (groupWidth - 12) / 2))\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(e.name)</text>")
        }
        for (s, source) in sources.enumerated() {
            let y = 20.0 + Double(s) * 16
            svg.append(
                "<rect x=\"\(width - 150)\" y=\"\(y - 9)\" width=\"10\" height=\"10\" fill=\"\(colours[s % colours.count])\"/>")
            svg.append("<text x=\"\(width - 135)\" y=\"\(y)\">\(source.rawValue)</text>")
        }
        svg.append("<text x=\"\(left)\" y=\"\(height - 12)\">faces per class (\(dataset.count) in all)</text>")
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    static func html(title: String, distribution: String, summary: String, sheets: [(DataSource, String)]) -> String {
        var body = [
            "<h1>\(escape(title))</h1>",
            "<h2>Summary</h2>", markdownTableToHTML(summary),
            "<h2>Class distribution</h2>", "<img src=\"class_distribution.svg\" alt=\"faces per class and source\">",
            markdownTableToHTML(distribution),
            "<h2>Sample faces</h2>",
            "<p>One row per class, in label order: \(Emotion.allCases.map(\.name).joined(separator: ", ")).</p>",
        ]
        for (source, file) in sheets {
            body.append(
                "<h3>\(escape(source.rawValue))</h3><img src=\"\(file)\" alt=\"sample faces from \(escape(source.rawValue))\">")
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
            td:first-child,th:first-child{text-align:left}img{max-width:100%;image-rendering:pixelated}</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    /// The simple pipe tables written above, as HTML tables.
    public static func markdownTableToHTML(_ markdown: String) -> String {
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("|") && !$0.hasPrefix("|---") }
        let cells = rows.map { row in
            row.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { escape($0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "**", with: "")) }
        }
        guard let head = cells.first else { return "" }
        var html = ["<table>", "<tr>" + head.map { "<th>\($0)</th>" }.joined() + "</tr>"]
        for row in cells.dropFirst() { html.append("<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>") }
        html.append("</table>")
        return html.joined(separator: "\n")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
