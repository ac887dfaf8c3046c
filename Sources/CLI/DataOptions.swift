import ArgumentParser
import FacemineData
import Foundation

/// Where a command's faces come from: real files (found under --data, or given per source), or
/// the built-in synthetic faces when none are given.
struct DataOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Folder holding FER-2013 and/or CK+ in any of their download layouts (searched 3 levels deep).",
            valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("FER-2013 alone: fer2013.csv, or the folder holding train/ and test/.", valueName: "path"))
    var fer: String?

    @Option(help: ArgumentHelp("CK+ alone: ckextended.csv, or the CK+48 folder.", valueName: "path"))
    var ck: String?

    @Flag(help: "Skip broken rows and images (reporting how many and the first few) instead of stopping at the first.")
    var skipBad = false

    @Option(parsing: .unconditional, help: "Synthetic faces to draw when no dataset is given (1...1000000).")
    var syntheticCount = 6000

    @Flag(
        help: ArgumentHelp(
            "Synthetic faces from two sources instead of one: a large in-the-wild source and a small lab source "
                + "where alone contempt occurs (the rare-class benchmark; see docs/RESULTS.md)."))
    var twoSources = false

    @Option(parsing: .unconditional, help: "Seed for synthetic faces, splits, sampling and augmentation.")
    var seed: UInt64 = 0

    var usesRealData: Bool { data != nil || fer != nil || ck != nil }

    func validate() throws {
        guard (1...1_000_000).contains(syntheticCount) else { throw ValidationError("--synthetic-count must be in 1...1000000") }
    }

    /// Loads the faces and says on stderr what was loaded and what was skipped.
    func load() throws -> FaceDataset {
        guard usesRealData else {
            if twoSources {
                let faces = TwoSourceFaces(count: syntheticCount, seed: seed).generate()
                note(
                    "no dataset given: using \(faces.count) two-source synthetic faces (seed \(seed)): "
                        + faces.sources.map { source in "\(source.rawValue) \(faces.records.filter { $0.source == source }.count)"
                        }.joined(separator: ", "))
                return faces
            }
            let faces = SyntheticFaces(count: syntheticCount, seed: seed).generate()
            note("no dataset given: using \(faces.count) synthetic faces (seed \(seed)); see --data")
            return faces
        }
        let url = { (path: String) in URL(fileURLWithPath: (path as NSString).expandingTildeInPath) }
        let (faces, report) = try DatasetLoader.load(
            dataDirectory: data.map(url), fer: fer.map(url), ck: ck.map(url),
            policy: skipBad ? .skip : .stop)
        for line in report.summary { note(line) }
        guard !faces.isEmpty else { throw CommandFailure("no usable faces were loaded") }
        return faces
    }
}

/// Progress and notes go to stderr, so stdout stays clean for tables and --json.
func note(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
