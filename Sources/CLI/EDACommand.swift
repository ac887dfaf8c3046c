import ArgumentParser
import FacemineData
import Foundation

struct EDACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eda",
        abstract: "Explore a dataset: class distribution per source, sample faces, summary, as Markdown, SVG, PNG and HTML.")

    @OptionGroup var dataOptions: DataOptions

    @Option(help: ArgumentHelp("Folder to write the report into.", valueName: "dir"))
    var out = "runs/eda"

    func run() throws {
        let faces = try dataOptions.load()
        let folder = URL(fileURLWithPath: out)
        let title = dataOptions.usesRealData ? "facemine EDA" : "facemine EDA (synthetic faces)"
        try ExploratoryReport.write(faces, to: folder, title: title)
        print(ExploratoryReport.summaryTable(faces))
        print(ExploratoryReport.distributionTable(faces))
        print("report: \(folder.appendingPathComponent("index.html").path)")
    }
}
