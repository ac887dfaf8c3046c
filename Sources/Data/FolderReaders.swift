import Dispatch
import Foundation

/// Reads the image-folder layouts: FER-2013 from Kaggle (`train/<class>/Training_<id>.jpg`,
/// `test/<class>/PublicTest_<id>.jpg`) and CK+48 (`CK+48/<class>/S005_001_00000011.png`).
/// Class folders are mapped by name, never by their alphabetical position.
public enum FolderReader {
    /// FER-2013 folders under `root` (which holds `train/` and/or `test/`).
    public static func readFER(
        _ root: URL, policy: BadInputPolicy,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> (FaceDataset, LoadReport) {
        var files: [(URL, FaceRecord)] = []
        let parts = ["train", "test"].filter { isDirectory(root.appendingPathComponent($0)) }
        guard !parts.isEmpty else { throw DataError(root.path, "no train/ or test/ folder") }
        for part in parts {
            let dir = root.appendingPathComponent(part)
            for (classDir, label) in try classFolders(dir, names: Emotion.ferFolderNames) {
                for file in try imageFiles(classDir) {
                    let name = file.lastPathComponent
                    // The file-name prefix keeps FER-2013's original split; the folder says less.
                    let split =
                        OriginalSplit.allCases.first { name.hasPrefix($0.rawValue + "_") }
                        ?? (part == "train" ? .training : .publicTest)
                    files.append(
                        (
                            file,
                            FaceRecord(
                                label: label, source: .fer2013, split: split,
                                origin: "\(part)/\(classDir.lastPathComponent)/\(name)")
                        ))
                }
            }
        }
        return try decode(files, policy: policy, threads: threads)
    }

    /// CK+48 class folders directly under `root`. Subject (`S005`) and sequence (`S005_001`)
    /// come from the file name; the subject is the group that cross-validation keeps together.
    public static func readCK48(
        _ root: URL, policy: BadInputPolicy,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> (FaceDataset, LoadReport) {
        var files: [(URL, FaceRecord)] = []
        for (classDir, label) in try classFolders(root, names: Emotion.ckFolderNames) {
            for file in try imageFiles(classDir) {
                let name = file.deletingPathExtension().lastPathComponent
                let parts = name.split(separator: "_")
                let subject = parts.first.map(String.init).flatMap { $0.hasPrefix("S") ? $0 : nil }
                let sequence = subject != nil && parts.count >= 2 ? "\(parts[0])_\(parts[1])" : nil
                files.append(
                    (
                        file,
                        FaceRecord(
                            label: label, source: .ckplus, group: subject.map { "CK+:\($0)" },
                            sequence: sequence,
                            origin: "\(root.lastPathComponent)/\(classDir.lastPathComponent)/\(file.lastPathComponent)")
                    ))
            }
        }
        return try decode(files, policy: policy, threads: threads)
    }

    // MARK: helpers

    static func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }

    /// Visible entries of a folder, sorted by name so every run sees the same order.
    static func entries(_ dir: URL) throws -> [URL] {
        do {
            return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
                .filter { !$0.lastPathComponent.hasPrefix(".") }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw DataError(dir.path, "cannot list the folder (\(error.localizedDescription))")
        }
    }

    /// The class folders of `dir`, each mapped to its emotion by name. Anything else there is an
    /// error: a misnamed folder would otherwise be silently left out.
    static func classFolders(_ dir: URL, names: [String: Emotion]) throws -> [(URL, Emotion)] {
        var found: [(URL, Emotion)] = []
        for entry in try entries(dir) {
            guard isDirectory(entry) else {
                throw DataError(entry.path, "unexpected file among the class folders")
            }
            guard let label = names[entry.lastPathComponent.lowercased()] else {
                let known = names.keys.sorted().joined(separator: ", ")
                throw DataError(entry.path, "unknown class folder \"\(entry.lastPathComponent)\" (expected one of \(known))")
            }
            found.append((entry, label))
        }
        guard !found.isEmpty else { throw DataError(dir.path, "no class folders") }
        return found
    }

    static func imageFiles(_ dir: URL) throws -> [URL] {
        let files = try entries(dir).filter { !isDirectory($0) }
        guard !files.isEmpty else { throw DataError(dir.path, "empty class folder") }
        return files
    }

    /// Decodes every file in parallel; each becomes a 48x48 face or an error naming the file.
    static func decode(_ files: [(URL, FaceRecord)], policy: BadInputPolicy, threads: Int) throws -> (FaceDataset, LoadReport) {
        let perImage = FaceDataset.pixelsPerImage
        var pixels = [UInt8](repeating: 0, count: files.count * perImage)
        var problems = [String?](repeating: nil, count: files.count)
        pixels.withUnsafeMutableBufferPointer { pixelBuffer in
            problems.withUnsafeMutableBufferPointer { problemBuffer in
                DispatchQueue.concurrentPerform(iterations: max(1, min(threads, files.count))) { chunk in
                    let chunks = max(1, min(threads, files.count))
                    for i in (chunk * files.count / chunks)..<((chunk + 1) * files.count / chunks) {
                        do {
                            let bytes = try [UInt8](Data(contentsOf: files[i].0))
                            let face = try GrayImage(decoding: bytes).face()
                            (pixelBuffer.baseAddress! + i * perImage).update(from: face, count: perImage)
                        } catch let error as CodecError {
                            problemBuffer[i] = "cannot decode the image (\(error.message))"
                        } catch {
                            problemBuffer[i] = "cannot read the file (\(error.localizedDescription))"
                        }
                    }
                }
            }
        }
        var dataset = FaceDataset()
        var report = LoadReport()
        for (i, (url, record)) in files.enumerated() {
            if let problem = problems[i] {
                let error = DataError(url.path, problem)
                if policy == .stop { throw error }
                report.skip(error)
            } else {
                dataset.append(image: pixels[(i * perImage)..<((i + 1) * perImage)], record: record)
            }
        }
        return (dataset, report)
    }
}
