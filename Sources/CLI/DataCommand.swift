import ArgumentParser
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Get the real datasets.",
        subcommands: [FetchCommand.self])
}

/// Downloads FER-2013 and CK+ with Kaggle's own client where it exists; otherwise says exactly
/// what to do. facemine never ships or pretends to have the data.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download FER-2013 (msambare/fer2013) and CK+ (davilsena/ckdataset) with the kagglehub Python package.")

    @Option(help: ArgumentHelp("Folder to link the downloads into.", valueName: "dir"))
    var into = "data"

    static let datasets = [("msambare/fer2013", "fer2013"), ("davilsena/ckdataset", "ckdataset")]

    static var manualSteps: String {
        """
        To get the data yourself:
          1. pip install kagglehub   (a Kaggle account may be needed: kagglehub.login())
          2. python3 -c 'import kagglehub; print(kagglehub.dataset_download("msambare/fer2013"))'
             python3 -c 'import kagglehub; print(kagglehub.dataset_download("davilsena/ckdataset"))'
          3. pass the printed folders (or one folder containing both) as --data,
             e.g. facemine eda --data ~/.cache/kagglehub/datasets
        Or download both datasets from Kaggle in a browser, unpack them under one folder, and pass it as --data.
        """
    }

    func run() throws {
        guard let python = Self.which("python3") else {
            throw CommandFailure("python3 is not installed, so kagglehub cannot run here.\n" + Self.manualSteps)
        }
        guard Self.run(python, ["-c", "import kagglehub"]).status == 0 else {
            throw CommandFailure("the Python package kagglehub is not installed (pip install kagglehub).\n" + Self.manualSteps)
        }
        try FileManager.default.createDirectory(atPath: into, withIntermediateDirectories: true)
        for (dataset, name) in Self.datasets {
            note("downloading \(dataset) with kagglehub...")
            let result = Self.run(
                python, ["-c", "import kagglehub, sys; print(kagglehub.dataset_download(sys.argv[1]))", dataset])
            let path = result.output.split(separator: "\n").last.map(String.init) ?? ""
            guard result.status == 0, FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure(
                    "kagglehub could not download \(dataset): \(result.output.split(separator: "\n").last ?? "no output")\n"
                        + Self.manualSteps)
            }
            let link = (into as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: link)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
            print("\(dataset) -> \(link) (\(path))")
        }
        print("use it with: --data \(into)")
    }

    static func which(_ program: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return paths.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// A failure a command explains itself: printed as "Error: <message>" without the usage text
/// that argument errors get.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
