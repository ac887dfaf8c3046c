import Foundation

struct ExportTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to its end: exit status, stdout, stderr.
func runProcess(_ executable: URL, _ arguments: [String], in folder: URL? = nil) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    // stderr goes to a file, so that neither stream can fill a pipe and block the program.
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errFile) }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = try FileHandle(forWritingTo: errFile)
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), try String(contentsOf: errFile, encoding: .utf8))
}

/// The facemine binary built beside the tests.
let facemineBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("facemine")
