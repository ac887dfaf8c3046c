import FacemineDevice

/// One backend on one device, as `facemine bench` measures it beside the others: the CPU
/// backend, or an OpenCL device. Its label, its start, and the yardsticks its rates are judged
/// by (peak FP32 rate, memory bandwidth) all come from here, so the benchmark never asks which
/// backend it holds.
public struct BackendTarget: Sendable, Equatable {
    let choice: BackendChoice
    let device: Int?

    /// The CPU backend.
    public static let cpu = BackendTarget(choice: .cpu, device: nil)

    /// "cpu", or "opencl:N" for OpenCL device N.
    public var label: String { choice == .cpu ? "cpu" : "opencl:\(device ?? 0)" }

    /// What `--backend` may name to pick targets: "all, cpu or opencl".
    public static let selections = ["all"] + BackendChoice.allCases.filter { $0 != .auto }.map(\.rawValue)
    public static var selectionNames: String { selections.dropLast().joined(separator: ", ") + " or " + selections.last! }

    /// The CPU backend and every OpenCL device this machine has.
    public static func all() -> [BackendTarget] {
        [.cpu] + DeviceInventory.openCLDevices().map { BackendTarget(choice: .opencl, device: $0.index) }
    }

    /// The targets `--backend NAME [--device N]` picks, or one line saying why none can be had.
    public static func selected(_ name: String, device: Int?) throws -> [BackendTarget] {
        guard selections.contains(name) else { throw BackendOptionError("--backend must be \(selectionNames)") }
        guard device == nil || name == BackendChoice.opencl.rawValue else {
            throw BackendOptionError("--device needs --backend opencl")
        }
        switch name {
        case BackendChoice.cpu.rawValue: return [.cpu]
        case BackendChoice.opencl.rawValue:
            let devices = DeviceInventory.openCLDevices()
            guard !devices.isEmpty else {
                throw BackendOptionError("--backend opencl: no OpenCL device here (see `facemine devices`)")
            }
            if let device {
                guard devices.contains(where: { $0.index == device }) else {
                    throw BackendOptionError(
                        "--device \(device): there is no OpenCL device \(device) here (see `facemine devices`)")
                }
                return [BackendTarget(choice: .opencl, device: device)]
            }
            return devices.map { BackendTarget(choice: .opencl, device: $0.index) }
        default: return all()
        }
    }

    public func makeBackend(threads: Int?) throws -> any Backend {
        try choice.makeBackend(device: device, threads: threads).backend
    }

    /// Whether the backend compiles kernel programs when it starts (OpenCL).
    public var compilesKernels: Bool { choice == .opencl }

    /// Kernel program build times (from source, and from the disk cache) where the backend
    /// compiles kernels at start-up; nil for the CPU backend.
    public func kernelBuildSeconds() throws -> (compile: Double, cachedLoad: Double)? {
        guard choice == .opencl, let device else { return nil }
        return try DeviceInventory.kernelBuildSeconds(device: device)
    }

    /// The FP32 peak the target's rates are a share of, with how it was obtained.
    public func peakFLOPS(threads: Int?) -> (Double?, String?) {
        switch choice {
        case .opencl:
            guard let d = DeviceInventory.openCLDevices().first(where: { $0.index == (device ?? 0) }) else { return (nil, nil) }
            return PeakFLOPS.openCL(d)
        default:
            return PeakFLOPS.cpu(threads: threads ?? DeviceInventory.cpuThreads)
        }
    }

    /// The memory bandwidth that bounds memory-bound ops. Measured on the CPU only: an OpenCL
    /// device's copy speed would need a kernel of its own (not written yet), so its ops keep %
    /// of peak alone.
    public func memoryBandwidth(threads: Int?) -> (Double?, String?) {
        guard choice == .cpu else { return (nil, "not measured on OpenCL devices") }
        return MemoryBandwidth.cpu(threads: threads ?? DeviceInventory.cpuThreads)
    }
}
