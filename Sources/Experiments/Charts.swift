import Foundation

/// Small self-contained SVG charts for the study reports: no scripts, no fonts or styles from
/// outside, so a report opens the same in any browser without a network. Every mark carries
/// `class` and `data-*` attributes, which is how the tests read the charts back.
enum Charts {
    static let palette = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
        "#9c755f", "#bab0ac",
    ]

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func open(_ width: Double, _ height: Double, title: String) -> [String] {
        [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
                + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">",
            "<title>\(escape(title))</title>",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(fmt(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>",
        ]
    }

    /// One line per series over epochs 1...n; y from 0 (or the data's minimum if negative) to the maximum.
    /// `pairs`: series come as (train, validation) pairs that share a colour, validation dashed.
    static func lines(title: String, yLabel: String, series: [(label: String, values: [Double])], pairs: Bool = false) -> String {
        let width = 420.0, height = 260.0, left = 50.0, right = 110.0, top = 28.0, bottom = 220.0
        let all = series.flatMap(\.values).filter(\.isFinite)
        let maxY = max(all.max() ?? 1, 1e-9), minY = min(all.min() ?? 0, 0)
        let epochs = max(series.map(\.values.count).max() ?? 1, 2)
        func x(_ i: Int) -> Double { left + (width - left - right) * Double(i) / Double(epochs - 1) }
        func y(_ v: Double) -> Double { bottom - (bottom - top) * (v - minY) / (maxY - minY) }
        var svg = open(width, height, title: title)
        svg.append("<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(width - right)\" y2=\"\(bottom)\" stroke=\"#333\"/>")
        svg.append("<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"#333\"/>")
        for tick in 0...4 {
            let v = minY + (maxY - minY) * Double(tick) / 4
            svg.append("<text x=\"\(left - 4)\" y=\"\(fmt(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.2f", v))</text>")
            svg.append("<line x1=\"\(left)\" y1=\"\(fmt(y(v)))\" x2=\"\(width - right)\" y2=\"\(fmt(y(v)))\" stroke=\"#eee\"/>")
        }
        svg.append(
            "<text x=\"\(fmt((left + width - right) / 2))\" y=\"\(bottom + 30)\" text-anchor=\"middle\">epoch (1 to \(epochs))</text>"
        )
        svg.append(
            "<text x=\"12\" y=\"\(fmt((top + bottom) / 2))\" transform=\"rotate(-90 12 \(fmt((top + bottom) / 2)))\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        )
        let dashed = pairs ? Set(stride(from: 1, to: series.count, by: 2)) : []
        for (s, entry) in series.enumerated() where !entry.values.isEmpty {
            let colour = palette[(pairs ? s / 2 : s) % palette.count]
            let points = entry.values.enumerated().filter { $0.element.isFinite }.map {
                "\(fmt(x($0.offset))),\(fmt(y($0.element)))"
            }
            svg.append(
                "<polyline class=\"series\" data-label=\"\(escape(entry.label))\" data-points=\"\(entry.values.count)\" fill=\"none\" "
                    + "stroke=\"\(colour)\" stroke-width=\"1.5\"\(dashed.contains(s) ? " stroke-dasharray=\"4 3\"" : "") points=\"\(points.joined(separator: " "))\"/>"
            )
            // A line needs two points: short runs (one epoch draws none) get a dot per epoch too.
            if entry.values.count <= 3 {
                for (i, v) in entry.values.enumerated() where v.isFinite {
                    svg.append("<circle class=\"point\" cx=\"\(fmt(x(i)))\" cy=\"\(fmt(y(v)))\" r=\"3\" fill=\"\(colour)\"/>")
                }
            }
            let ly = top + 12 + Double(s) * 14
            svg.append(
                "<line x1=\"\(width - right + 8)\" y1=\"\(fmt(ly - 4))\" x2=\"\(width - right + 22)\" y2=\"\(fmt(ly - 4))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dashed.contains(s) ? " stroke-dasharray=\"4 3\"" : "")/>"
            )
            svg.append("<text x=\"\(width - right + 26)\" y=\"\(fmt(ly))\">\(escape(entry.label))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// The fill of a heatmap cell at `shade` in 0...1 (white to blue).
    static func heatColour(_ shade: Double) -> String {
        let blue = Int(255 - 200 * min(max(shade, 0), 1))
        return "rgb(\(blue),\(blue + (255 - blue) / 3),255)"
    }

    /// A confusion matrix as a heatmap; `normalised` shows each row as shares of its class. The
    /// column labels are the full class names, slanted; a colour scale on the right says what
    /// the shades mean.
    static func heatmap(title: String, counts: [[Int]], names: [String], normalised: Bool) -> String {
        let n = counts.count, cell = 44.0, left = 90.0, top = 40.0, scaleWidth = 70.0
        let width = left + cell * Double(n) + 20 + scaleWidth, height = top + cell * Double(n) + 90
        var svg = open(width, height, title: title)
        let rowTotals = counts.map { max($0.reduce(0, +), 1) }
        let peak = Double(max(counts.flatMap { $0 }.max() ?? 1, 1))
        for t in 0..<n {
            for p in 0..<n {
                let value = normalised ? Double(counts[t][p]) / Double(rowTotals[t]) : Double(counts[t][p])
                let shade = normalised ? value : value / peak
                let label = normalised ? String(format: "%.2f", value) : "\(counts[t][p])"
                let x = left + Double(p) * cell, y = top + Double(t) * cell
                svg.append(
                    "<rect class=\"cell\" data-truth=\"\(escape(names[t]))\" data-prediction=\"\(escape(names[p]))\" "
                        + "data-value=\"\(label)\" x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(cell - 1)\" height=\"\(cell - 1)\" "
                        + "fill=\"\(heatColour(shade))\"/>")
                svg.append(
                    "<text x=\"\(fmt(x + cell / 2))\" y=\"\(fmt(y + cell / 2 + 4))\" text-anchor=\"middle\" "
                        + "fill=\"\(shade > 0.6 ? "white" : "#222")\">\(label)</text>")
            }
            svg.append(
                "<text x=\"\(left - 6)\" y=\"\(fmt(top + Double(t) * cell + cell / 2 + 4))\" text-anchor=\"end\">\(escape(names[t]))</text>"
            )
            let cx = left + Double(t) * cell + cell / 2, cy = top + Double(n) * cell + 10
            svg.append(
                "<text class=\"column\" x=\"\(fmt(cx))\" y=\"\(fmt(cy))\" text-anchor=\"end\" "
                    + "transform=\"rotate(-40 \(fmt(cx)) \(fmt(cy)))\">\(escape(names[t]))</text>")
        }
        svg.append(
            "<text x=\"\(fmt(left + cell * Double(n) / 2))\" y=\"\(fmt(height - 10))\" text-anchor=\"middle\">predicted (rows: true class)</text>"
        )
        // The colour scale: ten steps from the lightest to the darkest shade, labelled at both ends.
        let scaleX = left + cell * Double(n) + 30, scaleTop = top, scaleHeight = cell * Double(n)
        let maximum = normalised ? "1.00" : "\(Int(peak))", minimum = normalised ? "0.00" : "0"
        for step in 0..<10 {
            let y = scaleTop + scaleHeight * Double(step) / 10
            svg.append(
                "<rect class=\"scale\" x=\"\(fmt(scaleX))\" y=\"\(fmt(y))\" width=\"12\" height=\"\(fmt(scaleHeight / 10 + 0.5))\" "
                    + "fill=\"\(heatColour(1 - Double(step) / 9))\"/>")
        }
        svg.append("<text class=\"scale-label\" x=\"\(fmt(scaleX + 16))\" y=\"\(fmt(scaleTop + 9))\">\(maximum)</text>")
        svg.append("<text class=\"scale-label\" x=\"\(fmt(scaleX + 16))\" y=\"\(fmt(scaleTop + scaleHeight))\">\(minimum)</text>")
        svg.append(
            "<text x=\"\(fmt(scaleX + 6))\" y=\"\(fmt(scaleTop - 8))\" text-anchor=\"middle\" font-size=\"9\">\(normalised ? "share" : "faces")</text>"
        )
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Grouped bars with error bars (mean ± std), one group per category, one bar per series.
    static func bars(
        title: String, yLabel: String, categories: [String], series: [(label: String, values: [Spread])],
        maxY fixedMax: Double? = nil
    ) -> String {
        let width = 760.0, height = 300.0, left = 50.0, top = 30.0, bottom = 240.0
        let topValue = fixedMax ?? max(series.flatMap { $0.values.map { $0.mean + $0.std } }.max() ?? 1, 1e-9)
        let group = (width - left - 20) / Double(max(categories.count, 1))
        let bar = (group - 10) / Double(max(series.count, 1))
        func y(_ v: Double) -> Double { bottom - (bottom - top) * min(max(v, 0), topValue) / topValue }
        var svg = open(width, height, title: title)
        svg.append("<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(width - 10)\" y2=\"\(bottom)\" stroke=\"#333\"/>")
        for tick in 0...4 {
            let v = topValue * Double(tick) / 4
            svg.append(
                "<text x=\"\(left - 4)\" y=\"\(fmt(y(v) + 4))\" text-anchor=\"end\">\(String(format: topValue > 10 ? "%.0f" : "%.2f", v))</text>"
            )
            svg.append("<line x1=\"\(left)\" y1=\"\(fmt(y(v)))\" x2=\"\(width - 10)\" y2=\"\(fmt(y(v)))\" stroke=\"#eee\"/>")
        }
        for (c, category) in categories.enumerated() {
            let x0 = left + Double(c) * group + 5
            for (s, entry) in series.enumerated() {
                let v = entry.values[c], x = x0 + Double(s) * bar
                svg.append(
                    "<rect class=\"bar\" data-category=\"\(escape(category))\" data-series=\"\(escape(entry.label))\" "
                        + "data-mean=\"\(String(format: "%.4f", v.mean))\" data-std=\"\(String(format: "%.4f", v.std))\" "
                        + "x=\"\(fmt(x))\" y=\"\(fmt(y(v.mean)))\" width=\"\(fmt(bar - 2))\" height=\"\(fmt(bottom - y(v.mean)))\" "
                        + "fill=\"\(palette[s % palette.count])\"><title>\(escape(category)), \(escape(entry.label)): \(v.text)</title></rect>"
                )
                if v.std > 0 {
                    let cx = x + (bar - 2) / 2
                    svg.append(
                        "<line class=\"error\" x1=\"\(fmt(cx))\" y1=\"\(fmt(y(v.mean - v.std)))\" x2=\"\(fmt(cx))\" y2=\"\(fmt(y(v.mean + v.std)))\" stroke=\"#222\"/>"
                    )
                }
            }
            svg.append(
                "<text x=\"\(fmt(x0 + (group - 10) / 2))\" y=\"\(bottom + 14)\" text-anchor=\"middle\">\(escape(category))</text>"
            )
        }
        for (s, entry) in series.enumerated() where series.count > 1 {
            let ly = top + 8 + Double(s) * 14
            svg.append(
                "<rect x=\"\(width - 200)\" y=\"\(fmt(ly - 8))\" width=\"10\" height=\"10\" fill=\"\(palette[s % palette.count])\"/>"
            )
            svg.append("<text x=\"\(width - 186)\" y=\"\(fmt(ly + 1))\">\(escape(String(entry.label.prefix(30))))</text>")
        }
        svg.append("<text x=\"\(left)\" y=\"\(height - 12)\">\(escape(yLabel))</text>")
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
