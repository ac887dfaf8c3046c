import Foundation

/// What `facemine bench` measured, in a schema other tools can write too
/// (benchmarks/pytorch/bench.py writes the same for PyTorch), so `--compare` can put any two
/// runs side by side: two commits, two machines, or facemine against PyTorch.
public struct BenchReport: Codable, Sendable {
    public static let currentSchema = "facemine-bench/1"
    public var schema = BenchReport.currentSchema
    /// ISO 8601 time of the run.
    public var created: String
    /// The command line that produced it.
    public var command: String
    public var devices: [BenchDevice]
    public var entries: [BenchEntry]

    public init(command: String, devices: [BenchDevice], entries: [BenchEntry]) {
        self.created = ISO8601DateFormatter().string(from: Date())
        self.command = command
        self.devices = devices
        self.entries = entries
    }

    /// Reads a report, refusing files of another schema with a one-line reason.
    public static func read(_ url: URL) throws -> BenchReport {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw BenchError("\(url.path): cannot be read (\(error.localizedDescription))")
        }
        let report: BenchReport
        do { report = try JSONDecoder().decode(BenchReport.self, from: data) } catch {
            throw BenchError("\(url.path): not a facemine bench JSON file (\(error))")
        }
        guard report.schema == currentSchema else {
            throw BenchError("\(url.path): schema \(report.schema), this facemine reads \(currentSchema)")
        }
        return report
    }
}

/// One backend on one device, and the peak its percentages refer to.
public struct BenchDevice: Codable, Sendable, Equatable {
    /// "cpu", "opencl:N" or another tool's name ("pytorch").
    public var backend: String
    public var description: String
    /// Peak FP32 rate in GFLOP/s, where it can be known, and how it was worked out.
    public var peakGFLOPS: Double?
    public var peakHow: String?
    /// Memory bandwidth in GB/s, where measured, and how: the roof of memory-bound ops.
    public var bandwidthGBs: Double?
    public var bandwidthHow: String?
    /// The kernel choices the backend timed on the device (convolution algorithm by shape),
    /// where it times any; absent in other tools' reports.
    public var tunedKernels: [String: String]?

    public init(
        backend: String, description: String, peakGFLOPS: Double?, peakHow: String?,
        bandwidthGBs: Double? = nil, bandwidthHow: String? = nil
    ) {
        self.backend = backend
        self.description = description
        self.peakGFLOPS = peakGFLOPS
        self.peakHow = peakHow
        self.bandwidthGBs = bandwidthGBs
        self.bandwidthHow = bandwidthHow
    }
}

/// One timed thing on one backend. `group` + `name` + `batch` identify it across runs.
public struct BenchEntry: Codable, Sendable, Equatable {
    public enum Group: String, Codable, Sendable, CaseIterable {
        case startup, gemm, conv, batchnorm, train, inference
    }

    public var backend: String
    public var group: Group
    public var name: String
    public var batch: Int
    /// Median seconds of the measured repeats (one repeat for start-up costs).
    public var seconds: Double
    public var gflops: Double?
    public var gigabytesPerSecond: Double?
    public var percentOfPeak: Double?
    /// GEMM and convolutions: FLOPs per byte the op must move at least (`Roofline`), whether
    /// that makes it memory-bound here, and the share of its roof (peak, or intensity x
    /// bandwidth when memory-bound) it reached.
    public var flopsPerByte: Double?
    public var memoryBound: Bool?
    public var percentOfRoof: Double?
    public var imagesPerSecond: Double?
    /// Bytes held by the backend (tensors, gradients, workspace) at its peak during the run.
    public var memoryBytes: Int?

    public init(backend: String, group: Group, name: String, batch: Int, seconds: Double) {
        self.backend = backend
        self.group = group
        self.name = name
        self.batch = batch
        self.seconds = seconds
    }

    var key: String { "\(group.rawValue)|\(name)|\(batch)" }
}

public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
