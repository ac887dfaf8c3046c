import Foundation

/// Where runs and studies are written: `--runs-dir`, else `FACEMINE_RUNS_DIR`, else `./runs`.
/// A `--name` that is an absolute path is the run's folder itself.
enum RunsDirectory {
    static func folder(for name: String, runsDir: String?) -> URL {
        if name.hasPrefix("/") { return URL(fileURLWithPath: name) }
        let base = runsDir ?? ProcessInfo.processInfo.environment["FACEMINE_RUNS_DIR"] ?? "runs"
        return URL(fileURLWithPath: (base as NSString).expandingTildeInPath).appendingPathComponent(name)
    }

    /// Files a finished or stopped training run leaves; a folder holding any of them is a run.
    static let runFiles = ["last.safetensors", "best.safetensors", "metrics.json", "history.csv", "config.json"]

    static func holdsRun(_ folder: URL) -> Bool {
        runFiles.contains { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }
}
