import FacemineCPU
import FacemineDevice
import Foundation

/// What `facemine devices` shows: every backend this build has and the devices it can drive.
public struct DeviceListing: Sendable {
    public let backend: BackendKind
    public let index: Int
    public let name: String
    public let details: [(String, String)]
}

public enum DeviceInventory {
    /// Every device this machine offers, CPU first.
    public static func list() -> [DeviceListing] {
        [cpuListing()]
    }

    /// Backends this build knows of but cannot use, with the reason.
    public static func unavailable() -> [(BackendKind, String)] {
        [(.opencl, "not built into this version of facemine yet")]
    }

    static func cpuListing() -> DeviceListing {
        let threads = CPUBackend.defaultThreadCount
        let source = ProcessInfo.processInfo.environment["FACEMINE_THREADS"] != nil ? "FACEMINE_THREADS" : "all cores"
        return DeviceListing(
            backend: .cpu, index: 0, name: processorName(),
            details: [
                ("cores", "\(ProcessInfo.processInfo.activeProcessorCount)"),
                ("threads", "\(threads) (\(source))"),
                ("memory", String(format: "%.1f GiB", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)),
                ("BLAS", CPUBackend.blasDescription),
            ])
    }

    /// The processor's marketing name from /proc/cpuinfo, where the system has one.
    static func processorName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "CPU"
    }
}
