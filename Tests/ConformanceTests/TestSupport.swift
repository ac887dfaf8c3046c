import FacemineBackends
import FacemineDevice
import FacemineRandom
import Foundation
import Testing

/// The backends the conformance suite runs on: the CPU backend with one and three threads and
/// the default OpenCL device (PoCL in CI). `FACEMINE_TEST_BACKENDS=cpu,opencl` picks a list at
/// run time. A backend that is asked for and cannot be created fails every test it was meant
/// for: a machine without an OpenCL device goes red, it never skips into green.
struct BackendUnderTest: CustomTestStringConvertible, Sendable {
    let choice: BackendChoice
    let threads: Int?

    init(_ choice: BackendChoice, threads: Int? = nil) {
        self.choice = choice
        self.threads = threads
    }

    /// One and three threads: three does not divide most loop counts, so uneven partitions
    /// get exercised on any machine.
    static let defaults: [BackendUnderTest] = [
        BackendUnderTest(.cpu, threads: 1),
        BackendUnderTest(.cpu, threads: 3),
        BackendUnderTest(.opencl),
    ]

    static var all: [BackendUnderTest] {
        guard let list = ProcessInfo.processInfo.environment["FACEMINE_TEST_BACKENDS"] else { return defaults }
        return list.split(separator: ",").map { name in
            // An unknown name becomes a backend whose creation fails, so the run goes red.
            BackendUnderTest(BackendChoice(rawValue: String(name)) ?? .opencl)
        }
    }

    func make() throws -> any Backend {
        try choice.makeBackend(threads: threads).backend
    }

    var testDescription: String { threads.map { "\(choice.rawValue)x\($0)" } ?? choice.rawValue }
}

/// Every test draws the same numbers on every run, from facemine's one seeded generator.
extension SeededGenerator {
    /// Values in [-scale, scale), exactly representable as Float so both sides see equal inputs.
    mutating func values(_ count: Int, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in Double(Float(Double.random(in: -scale..<scale, using: &self))) }
    }
}

extension Array where Element == Double {
    var floats: [Float] { map { Float($0) } }
}

extension Array where Element == Float {
    var doubles: [Double] { map { Double($0) } }
}

/// Asserts |actual - expected| <= tolerance * (|expected| + scale) elementwise, where scale is the
/// largest |expected|: relative for large entries, absolute (relative to the tensor) for tiny ones,
/// which is how float rounding in long sums behaves.
func expectClose(
    _ actual: [Float], _ expected: [Double], tolerance: Double = 1e-4,
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)",
        sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    let scale = Swift.max(expected.map { abs($0) }.max() ?? 0, 1e-30)
    var worst = 0.0, worstIndex = 0
    for i in actual.indices {
        let error = abs(Double(actual[i]) - expected[i]) / (abs(expected[i]) + scale)
        if !(error <= worst) { worst = error; worstIndex = i }
    }
    #expect(
        worst <= tolerance,
        "\(what): element \(worstIndex) is \(actual[worstIndex]), expected \(expected[worstIndex]) (relative error \(worst))",
        sourceLocation: sourceLocation)
}
