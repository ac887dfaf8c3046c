/// A problem with an input file (a dataset, an image, a checkpoint), pinned to the file and,
/// for CSV, the line, in one line of text:
/// `fer2013.csv line 17: expected 2304 pixel values, found 2303`.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public let location: String
    public let problem: String

    public init(_ location: String, _ problem: String) {
        self.location = location
        self.problem = problem
    }

    public var description: String { "\(location): \(problem)" }
}

/// What a loader does with a broken row or file.
public enum BadInputPolicy: Sendable {
    /// Stop with the first error (in file and line order).
    case stop
    /// Leave the bad sample out, count it, and remember the first few for the report.
    case skip
}

/// What loading saw besides the good samples.
public struct LoadReport: Sendable, Equatable {
    public static let offendersKept = 5

    public private(set) var skipped = 0
    /// The first few errors skipped, in file and line order.
    public private(set) var offenders: [DataError] = []
    /// Notes for the user, e.g. which of two copies of a source was used.
    public var notes: [String] = []

    public init() {}

    public mutating func skip(_ error: DataError) {
        skipped += 1
        if offenders.count < LoadReport.offendersKept { offenders.append(error) }
    }

    public mutating func merge(_ other: LoadReport) {
        for e in other.offenders where offenders.count < LoadReport.offendersKept { offenders.append(e) }
        skipped += other.skipped
        notes += other.notes
    }

    /// One line per fact, for the terminal.
    public var summary: [String] {
        var lines = notes
        if skipped > 0 {
            lines.append(
                "skipped \(skipped) bad sample\(skipped == 1 ? "" : "s"); first: "
                    + offenders.map(\.description).joined(separator: "; "))
        }
        return lines
    }
}

import Foundation

extension DataError: LocalizedError {
    public var errorDescription: String? { description }
}

extension CodecError: LocalizedError {
    public var errorDescription: String? { message }
}

/// The operating system's own words for a file error ("No space left on device", "Not a
/// directory"), which Foundation's messages on Linux often hide behind a generic sentence.
public func systemReason(_ error: Error) -> String {
    var current: NSError? = error as NSError
    while let e = current {
        if e.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(e.code))) }
        current = e.userInfo[NSUnderlyingErrorKey] as? NSError
    }
    return error.localizedDescription
}

/// Why a folder cannot be created, in words: Foundation on Linux reports only "error 512".
public func folderCreationReason(_ folder: URL, _ error: Error) -> String {
    var ancestor = folder
    while ancestor.path != "/" {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue { return "\(ancestor.path) is a file, not a folder" }
            if !FileManager.default.isWritableFile(atPath: ancestor.path) { return "no permission to write in \(ancestor.path)" }
            break
        }
        ancestor = ancestor.deletingLastPathComponent()
    }
    return systemReason(error)
}
