import FacemineCPU
import FacemineDevice
import FacemineOpenCL
import Foundation

/// What `facemine devices` shows: every backend this build has and the devices it can drive.
public struct DeviceListing: Sendable {
    public let backend: BackendKind
    public let index: Int
    public let name: String
    public let details: [(String, String)]
}

public enum DeviceInventory {
    /// Every device this machine offers, CPU first, then each OpenCL device.
    public static func list() -> [DeviceListing] {
        [cpuListing()] + ((try? OpenCLDevices.all()) ?? []).map(openCLListing)
    }

    /// Backends this build cannot use here, with the reason.
    public static func unavailable() -> [(BackendKind, String)] {
        var notes: [(BackendKind, String)] = []
        do {
            _ = try OpenCLDevices.all()
        } catch {
            notes.append((.opencl, "\(error)"))
        }
        if let library = UnregisteredDriver.find() { notes.append((.opencl, UnregisteredDriver.hint(library))) }
        return notes
    }

    static func openCLListing(_ d: OpenCLDeviceInfo) -> DeviceListing {
        DeviceListing(
            backend: .opencl, index: d.index, name: d.name,
            details: [
                ("type", d.kind.rawValue),
                ("platform", d.platform),
                ("vendor", d.vendor),
                ("driver", "\(d.driverVersion) (\(d.openCLVersion))"),
                ("units", "\(d.computeUnits) compute units at \(d.clockMHz) MHz"),
                ("memory", String(format: "%.1f GiB", Double(d.globalMemoryBytes) / 1_073_741_824)),
                ("fp16", d.supportsFP16 ? "yes" : "no"),
            ])
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

/// What the benchmark needs to know about an OpenCL device, without importing OpenCL.
public struct OpenCLDeviceSummary: Sendable {
    public let index: Int
    public let name: String
    public let vendor: String
    public let isCPU: Bool
    public let computeUnits: Int
    public let clockMHz: Int
}

extension DeviceInventory {
    public static func openCLDevices() -> [OpenCLDeviceSummary] {
        ((try? OpenCLDevices.all()) ?? []).map {
            OpenCLDeviceSummary(
                index: $0.index, name: $0.name, vendor: $0.vendor, isCPU: $0.kind == .cpu,
                computeUnits: $0.computeUnits, clockMHz: $0.clockMHz)
        }
    }

    /// OpenCL kernel program build time on `device`: compiled from source (a first run) and
    /// loaded from the disk cache (every later run).
    public static func kernelBuildSeconds(device: Int) throws -> (compile: Double, cachedLoad: Double) {
        try OpenCLBackend.measureKernelBuild(device: device)
    }
}

extension DeviceInventory {
    /// Threads the CPU backend runs with by default (FACEMINE_THREADS or all cores).
    public static var cpuThreads: Int { CPUBackend.defaultThreadCount }
}
