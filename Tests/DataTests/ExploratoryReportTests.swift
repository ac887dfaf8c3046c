import FacemineData
import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import Testing

@Suite struct ExploratoryReportTests {
    /// Collects the bars of the SVG chart: parsing it as XML also proves it is well formed.
    final class BarCollector: NSObject, XMLParserDelegate {
        var bars: [(label: String, source: String, count: Int)] = []
        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
            qualifiedName: String?, attributes: [String: String] = [:]
        ) {
            if name == "rect", attributes["class"] == "bar" {
                bars.append((attributes["data-class"]!, attributes["data-source"]!, Int(attributes["data-count"]!)!))
            }
        }
    }

    @Test func writesTablesChartSamplesAndAnIndexThatShowsThem() throws {
        var faces = SyntheticFaces(count: 400, seed: 2).generate()
        // A second source with its own classes, as CK+ beside FER-2013.
        let lab = SyntheticFaces(count: 40, seed: 3).generate()
        for i in 0..<lab.count {
            var r = lab.records[i]
            r.source = .ckplus
            faces.append(image: lab.image(i), record: r)
        }
        let f = try Fixtures()
        defer { f.remove() }
        let files = try ExploratoryReport.write(faces, to: f.root, title: "test <report>")
        #expect(
            Set(files.map(\.lastPathComponent)) == [
                "class_distribution.md", "summary.md", "class_distribution.svg",
                "samples_synthetic.png", "samples_ckplus.png", "index.html",
            ])

        let collector = BarCollector()
        let parser = XMLParser(data: try Data(contentsOf: f.root.appendingPathComponent("class_distribution.svg")))
        parser.delegate = collector
        #expect(parser.parse(), "the SVG is well-formed XML")
        #expect(collector.bars.count == 16, "8 classes x 2 sources")
        for bar in collector.bars {
            let source = DataSource(rawValue: bar.source)!
            let label = Emotion.allCases.first { $0.name == bar.label }!
            #expect(bar.count == faces.classCounts(source: source)[label.rawValue])
        }

        let markdown = try String(contentsOf: f.root.appendingPathComponent("class_distribution.md"), encoding: .utf8)
        #expect(
            markdown.contains(
                "| happiness | \(faces.classCounts(source: .ckplus)[3]) | \(faces.classCounts(source: .synthetic)[3]) | \(faces.classCounts[3]) |"
            ))
        let summary = try String(contentsOf: f.root.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("| faces | 440 |"))

        let html = try String(contentsOf: f.root.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("<h1>test &lt;report&gt;</h1>"), "titles are escaped")
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"), "self-contained")
        let sources = html.components(separatedBy: "src=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(sources.count == 3)
        for name in sources { #expect(FileManager.default.fileExists(atPath: f.root.appendingPathComponent(String(name)).path)) }

        let sheet = try GrayImage(decoding: [UInt8](Data(contentsOf: f.root.appendingPathComponent("samples_ckplus.png"))))
        #expect(sheet.height == 8 * (96 + 2) + 2 && sheet.width == 10 * (96 + 2) + 2, "8 class rows of up to 10 faces at 2x")
    }
}
