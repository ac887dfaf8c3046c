import Foundation

/// One copy of a source on disk, in one of the four real layouts (DESIGN.md §4).
public enum DatasetFile: Equatable, Sendable, CustomStringConvertible {
    case ferCSV(URL)
    case ferFolders(URL)
    case ckCSV(URL)
    case ck48Folders(URL)

    public var source: DataSource {
        switch self {
        case .ferCSV, .ferFolders: .fer2013
        case .ckCSV, .ck48Folders: .ckplus
        }
    }

    public var description: String {
        switch self {
        case .ferCSV(let u): "FER-2013 CSV \(u.path)"
        case .ferFolders(let u): "FER-2013 folders \(u.path)"
        case .ckCSV(let u): "CK+ CSV \(u.path)"
        case .ck48Folders(let u): "CK+48 folders \(u.path)"
        }
    }

    /// Recognises a path given for one source explicitly (a CSV file or a folder root).
    public static func classify(_ url: URL) throws -> DatasetFile {
        let name = url.lastPathComponent.lowercased()
        if FolderReader.isDirectory(url) {
            if looksLikeFERFolders(url) { return .ferFolders(url) }
            if looksLikeCK48(url) { return .ck48Folders(url) }
            throw DataError(url.path, "folder is neither FER-2013 (train/, test/) nor CK+48 (class folders such as contempt/)")
        }
        guard FileManager.default.fileExists(atPath: url.path) else { throw DataError(url.path, "no such file or folder") }
        if name.hasSuffix(".csv") { return name.contains("ck") ? .ckCSV(url) : .ferCSV(url) }
        throw DataError(url.path, "not a CSV file or a dataset folder")
    }

    static func looksLikeFERFolders(_ url: URL) -> Bool {
        ["train", "test"].contains { part in
            let dir = url.appendingPathComponent(part)
            return FolderReader.isDirectory(dir)
                && ((try? FolderReader.entries(dir)) ?? []).contains {
                    Emotion.ferFolderNames[$0.lastPathComponent.lowercased()] != nil
                }
        }
    }

    static func looksLikeCK48(_ url: URL) -> Bool {
        let names = Set(((try? FolderReader.entries(url)) ?? []).map { $0.lastPathComponent.lowercased() })
        return names.contains("contempt") && names.isSubset(of: Set(Emotion.ckFolderNames.keys))
    }
}

/// Finds and loads FER-2013 and CK+ under a data folder, or from paths given per source.
public enum DatasetLoader {
    /// Every copy of a source found at most `depth` folders below `root`, in a stable order.
    public static func locate(_ root: URL, depth: Int = 3) throws -> [DatasetFile] {
        guard FolderReader.isDirectory(root) else { throw DataError(root.path, "data folder does not exist") }
        var found: [DatasetFile] = []
        func visit(_ dir: URL, _ level: Int) {
            if DatasetFile.looksLikeFERFolders(dir) { found.append(.ferFolders(dir)); return }
            if DatasetFile.looksLikeCK48(dir) { found.append(.ck48Folders(dir)); return }
            for entry in (try? FolderReader.entries(dir)) ?? [] {
                let name = entry.lastPathComponent.lowercased()
                if FolderReader.isDirectory(entry) {
                    if level < depth { visit(entry, level + 1) }
                } else if name == "fer2013.csv" {
                    found.append(.ferCSV(entry))
                } else if name == "ckextended.csv" {
                    found.append(.ckCSV(entry))
                }
            }
        }
        visit(root, 0)
        return found
    }

    /// Picks one copy per source: two copies of the same faces would put duplicates on both
    /// sides of every split. FER-2013: the CSV (one file, fastest). CK+: the CK+48 folders,
    /// whose file names carry the subject that cross-validation must keep together.
    public static func choose(_ files: [DatasetFile]) -> (chosen: [DatasetFile], notes: [String]) {
        var chosen: [DatasetFile] = []
        var notes: [String] = []
        let preference: [DataSource: [(DatasetFile) -> Bool]] = [
            .fer2013: [{ if case .ferCSV = $0 { true } else { false } }, { if case .ferFolders = $0 { true } else { false } }],
            .ckplus: [{ if case .ck48Folders = $0 { true } else { false } }, { if case .ckCSV = $0 { true } else { false } }],
        ]
        for source in [DataSource.fer2013, .ckplus] {
            let copies = files.filter { $0.source == source }
            guard let pick = preference[source]!.lazy.compactMap({ test in copies.first(where: test) }).first else { continue }
            chosen.append(pick)
            for other in copies where other != pick {
                notes.append("using \(pick), ignoring \(other) (same \(source.rawValue) faces)")
            }
        }
        return (chosen, notes)
    }

    /// Loads the chosen copies and merges them into one dataset in the 8-class label space.
    public static func load(
        _ files: [DatasetFile], policy: BadInputPolicy,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> (FaceDataset, LoadReport) {
        var dataset = FaceDataset()
        var report = LoadReport()
        for file in files {
            let (part, partReport): (FaceDataset, LoadReport)
            switch file {
            case .ferCSV(let url):
                (part, partReport) = try CSVReader.read(url, source: .fer2013, policy: policy, threads: threads)
            case .ckCSV(let url): (part, partReport) = try CSVReader.read(url, source: .ckplus, policy: policy, threads: threads)
            case .ferFolders(let url): (part, partReport) = try FolderReader.readFER(url, policy: policy, threads: threads)
            case .ck48Folders(let url): (part, partReport) = try FolderReader.readCK48(url, policy: policy, threads: threads)
            }
            dataset.append(contentsOf: part)
            report.merge(partReport)
        }
        return (dataset, report)
    }

    /// What a command loads: the sources under `dataDirectory`, replaced per source by `fer` or
    /// `ck` when given. Throws when nothing is found, naming what was looked for.
    public static func load(
        dataDirectory: URL?, fer: URL? = nil, ck: URL? = nil,
        policy: BadInputPolicy
    ) throws -> (FaceDataset, LoadReport) {
        var files: [DatasetFile] = []
        var notes: [String] = []
        if let dataDirectory {
            let found = try locate(dataDirectory)
            (files, notes) = choose(found)
        }
        for explicit in [fer, ck].compactMap({ $0 }) {
            let file = try DatasetFile.classify(explicit)
            files.removeAll { $0.source == file.source }
            files.append(file)
        }
        guard !files.isEmpty else {
            throw DataError(
                dataDirectory?.path ?? ".",
                "no FER-2013 or CK+ data found (looked for fer2013.csv, ckextended.csv, "
                    + "train/ and test/ class folders, and CK+48 class folders up to 3 folders deep)")
        }
        var (dataset, report) = try load(files, policy: policy)
        report.notes = notes + files.map { "loaded \($0)" } + report.notes
        return (dataset, report)
    }
}
