import Dispatch
import FacemineBackends
import FacemineDevice
import Foundation

/// Runs the benchmark on every backend and device asked for, one after the other in one
/// process, and gathers one report.
public struct Bench {
    public let options: BenchOptions
    public let progress: (String) -> Void

    public init(options: BenchOptions, progress: @escaping (String) -> Void = { _ in }) {
        self.options = options
        self.progress = progress
    }

    public func run(_ targets: [BackendTarget], command: String) throws -> BenchReport {
        var devices: [BenchDevice] = []
        var entries: [BenchEntry] = []
        for target in targets {
            let label = target.label
            progress("\(label): starting the backend")
            let start = DispatchTime.now().uptimeNanoseconds
            let backend = try target.makeBackend(threads: options.threads)
            let startup = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let (peak, how) = target.peakFLOPS(threads: options.threads)
            let (bandwidth, bandwidthHow) = target.memoryBandwidth(threads: options.threads)
            devices.append(
                BenchDevice(
                    backend: label, description: backend.deviceDescription, peakGFLOPS: peak, peakHow: how,
                    bandwidthGBs: bandwidth, bandwidthHow: bandwidthHow))
            entries.append(BenchEntry(backend: label, group: .startup, name: "backend start-up", batch: 0, seconds: startup))
            if target.compilesKernels {
                progress("\(label): kernel program build, cold and cached")
                if let (compile, cached) = try target.kernelBuildSeconds() {
                    entries.append(
                        BenchEntry(
                            backend: label, group: .startup, name: "kernel compile (empty cache)", batch: 0, seconds: compile))
                    entries.append(
                        BenchEntry(backend: label, group: .startup, name: "kernel load (disk cache)", batch: 0, seconds: cached))
                }
            }
            // The first GEMM of a process: on OpenCL this is where CLBlast compiles its kernels.
            let a = try backend.makeTensor([256, 256], values: benchValues(65536))
            let c = try backend.makeTensor([256, 256])
            let firstGEMM = try onceSeconds(backend) { backend.gemm(GEMM(m: 256, n: 256, k: 256), a: a, b: a, c: c) }
            entries.append(
                BenchEntry(backend: label, group: .startup, name: "first GEMM 256x256x256", batch: 0, seconds: firstGEMM))

            if options.includeOps {
                entries += try OpTimings(
                    backend: backend, label: label, options: options,
                    roofline: Roofline(peakGFLOPS: peak, bandwidthGBs: bandwidth), progress: progress
                ).run()
            }
            if options.includeModels {
                entries += try ModelTimings(
                    label: label, makeBackend: { try target.makeBackend(threads: options.threads) },
                    options: options, progress: progress
                ).run()
            }
            // The model timings' warm-up steps time every convolution shape of the models on
            // the device (on OpenCL): the choices are kept by the device, so this backend sees them.
            let tuned = backend.tunedKernelChoices
            if !tuned.isEmpty { devices[devices.count - 1].tunedKernels = tuned }
        }
        return BenchReport(command: command, devices: devices, entries: entries)
    }
}
