import Dispatch
import FacemineBackends
import FacemineDevice
import Foundation

/// Runs the benchmark on every backend and device asked for, one after the other in one
/// process, and gathers one report.
public struct Bench {
    /// A backend and device to measure: the CPU backend, or OpenCL device `device`.
    public struct Target: Sendable {
        public let choice: BackendChoice
        public let device: Int?
        public init(_ choice: BackendChoice, device: Int? = nil) {
            self.choice = choice
            self.device = device
        }
        var label: String { choice == .cpu ? "cpu" : "opencl:\(device ?? 0)" }
    }

    public let options: BenchOptions
    public let progress: (String) -> Void

    public init(options: BenchOptions, progress: @escaping (String) -> Void = { _ in }) {
        self.options = options
        self.progress = progress
    }

    /// The CPU backend and every OpenCL device this machine has.
    public static func allTargets() -> [Target] {
        [Target(.cpu)] + DeviceInventory.openCLDevices().map { Target(.opencl, device: $0.index) }
    }

    public func run(_ targets: [Target], command: String) throws -> BenchReport {
        var devices: [BenchDevice] = []
        var entries: [BenchEntry] = []
        for target in targets {
            let label = target.label
            progress("\(label): starting the backend")
            let start = DispatchTime.now().uptimeNanoseconds
            let backend = try target.choice.makeBackend(device: target.device, threads: options.threads).backend
            let startup = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let (peak, how) = peakFLOPS(target)
            let (bandwidth, bandwidthHow) = memoryBandwidth(target)
            devices.append(BenchDevice(backend: label, description: backend.deviceDescription, peakGFLOPS: peak, peakHow: how,
                                       bandwidthGBs: bandwidth, bandwidthHow: bandwidthHow))
            entries.append(BenchEntry(backend: label, group: .startup, name: "backend start-up", batch: 0, seconds: startup))
            if target.choice == .opencl, let index = target.device {
                progress("\(label): kernel program build, cold and cached")
                let (compile, cached) = try DeviceInventory.kernelBuildSeconds(device: index)
                entries.append(BenchEntry(backend: label, group: .startup, name: "kernel compile (empty cache)", batch: 0, seconds: compile))
                entries.append(BenchEntry(backend: label, group: .startup, name: "kernel load (disk cache)", batch: 0, seconds: cached))
            }
            // The first GEMM of a process: on OpenCL this is where CLBlast compiles its kernels.
            let a = try backend.makeTensor([256, 256], values: benchValues(65536))
            let c = try backend.makeTensor([256, 256])
            let firstGEMM = try onceSeconds(backend) { backend.gemm(GEMM(m: 256, n: 256, k: 256), a: a, b: a, c: c) }
            entries.append(BenchEntry(backend: label, group: .startup, name: "first GEMM 256x256x256", batch: 0, seconds: firstGEMM))

            if options.includeOps {
                entries += try OpTimings(backend: backend, label: label, options: options,
                                         roofline: Roofline(peakGFLOPS: peak, bandwidthGBs: bandwidth), progress: progress).run()
            }
            if options.includeModels {
                entries += try ModelTimings(label: label, makeBackend: {
                    try target.choice.makeBackend(device: target.device, threads: options.threads).backend
                }, options: options, progress: progress).run()
            }
        }
        return BenchReport(command: command, devices: devices, entries: entries)
    }

    /// Measured on the CPU only: an OpenCL device's copy speed would need a kernel of its own
    /// (not written yet), so its ops keep % of peak alone.
    private func memoryBandwidth(_ target: Target) -> (Double?, String?) {
        guard target.choice == .cpu else { return (nil, "not measured on OpenCL devices") }
        return MemoryBandwidth.cpu(threads: options.threads ?? DeviceInventory.cpuThreads)
    }

    private func peakFLOPS(_ target: Target) -> (Double?, String?) {
        switch target.choice {
        case .opencl:
            guard let d = DeviceInventory.openCLDevices().first(where: { $0.index == (target.device ?? 0) }) else { return (nil, nil) }
            return PeakFLOPS.openCL(d)
        default:
            let threads = options.threads ?? DeviceInventory.cpuThreads
            return PeakFLOPS.cpu(threads: threads)
        }
    }
}
