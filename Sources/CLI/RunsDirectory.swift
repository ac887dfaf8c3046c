import Foundation

/// Where runs and studies are written: `--runs-dir`, else `FACEMINE_RUNS_DIR`, else `./runs`.
/// A `--name` that is an absolute path is the run's folder itself.
enum RunsDirectory {
    static func folder(for name: String, runsDir: String?) -> URL {
        if name.hasPrefix("/") { return URL(fileURLWithPath: name) }
        let base = runsDir ?? ProcessInfo.processInfo.environment["FACEMINE_RUNS_DIR"] ?? "runs"
        return URL(fileURLWithPath: (base as NSString).expandingTildeInPath).appendingPathComponent(name)
    }

    /// What a run that finished an epoch leaves; a folder holding any of them holds a run that
    /// `--resume` continues. (A run killed before its first epoch left only config.json, and
    /// starting it again loses nothing.)
    static let progressFiles = ["last.safetensors", "best.safetensors", "metrics.json", "history.csv"]
    /// Everything `--overwrite` deletes.
    static let runFiles = progressFiles + ["config.json"]

    /// Deletes a run's files (not the folder, nor anything else in it), TensorBoard logs included.
    static func clear(_ folder: URL) {
        let logs =
            (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasPrefix("events.out.tfevents.") }
            ?? []
        for file in runFiles + logs { try? FileManager.default.removeItem(at: folder.appendingPathComponent(file)) }
    }

    static func holdsRun(_ folder: URL) -> Bool {
        progressFiles.contains { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }
}
