import Foundation

/// Runs the facemine binary built beside the tests in `folder`, as a user would, and returns
/// its exit status and output: stdout and stderr together, or stdout alone with `stdoutOnly`
/// (for --json).
func runFacemine(
    _ arguments: [String], in folder: URL, environment: [String: String] = [:],
    stdoutOnly: Bool = false
) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = StudyCommandTests.binary
    p.arguments = arguments
    p.currentDirectoryURL = folder
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = stdoutOnly ? FileHandle.nullDevice : pipe
    try p.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, output)
}
