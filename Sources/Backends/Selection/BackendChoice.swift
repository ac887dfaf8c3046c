import Foundation
import FacemineCPU
import FacemineDevice
import FacemineOpenCL

/// The one place that knows every backend. The CLI and the tests ask it for a backend by
/// name; nothing else imports a backend module.
public enum BackendChoice: String, CaseIterable, Sendable {
    /// "auto, cpu or opencl", for help texts.
    public static let names = allCases.dropLast().map(\.rawValue).joined(separator: ", ") + " or " + allCases.last!.rawValue

    /// What the process must do before anything else for the backends to run at their best: the
    /// CPU backend restarts it once when the environment forces a slower OpenBLAS kernel.
    public static func prepareProcess() {
        OpenBLASCore.restartWithBetterKernelIfNeeded()
    }

    /// The first OpenCL GPU, else the CPU backend (an OpenCL CPU device such as PoCL is slower
    /// than the CPU backend on the same cores, so `auto` never picks one).
    case auto
    case cpu
    case opencl

    /// Checks the backend options (and FACEMINE_THREADS) before any data is loaded, so a typo
    /// costs nothing: a thread count outside 1...1024, a device index with the CPU backend, and
    /// an unreadable FACEMINE_THREADS are refused with one line naming what is wrong. Whether an
    /// OpenCL device index exists is known only when the backend is made.
    public func checkOptions(device: Int?, threads: Int?) throws {
        if let threads, !(1...1024).contains(threads) {
            throw BackendOptionError("--threads \(threads): give a thread count in 1...1024")
        }
        if threads == nil, let text = ProcessInfo.processInfo.environment["FACEMINE_THREADS"],
            !(Int(text).map { (1...1024).contains($0) } ?? false)
        {
            throw BackendOptionError("FACEMINE_THREADS=\(text.prefix(40)) is not a thread count in 1...1024")
        }
        if let device {
            guard device >= 0 else {
                throw BackendOptionError("--device \(device): device indices start at 0 (see facemine devices)")
            }
            guard self != .cpu else {
                throw BackendOptionError("--device picks an OpenCL device; it does not apply to --backend cpu")
            }
        }
    }

    /// The backend this choice names, with one line saying why it was picked, or an error saying
    /// why it cannot be had here. `device` is an index of `facemine devices`' OpenCL list;
    /// `threads` applies to the CPU backend (nil: FACEMINE_THREADS or all cores).
    public func makeBackend(device: Int? = nil, threads: Int? = nil) throws -> (backend: any Backend, reason: String) {
        func cpu() -> any Backend { CPUBackend(threads: threads ?? CPUBackend.defaultThreadCount) }
        switch self {
        case .cpu:
            return (cpu(), "asked for the CPU backend")
        case .opencl:
            let backend = try OpenCLBackend(device: device)
            return (backend, "asked for OpenCL device \(backend.device.index)")
        case .auto:
            let devices: [OpenCLDeviceInfo]
            do {
                devices = try OpenCLDevices.all()
            } catch {
                if let device { throw BackendOptionError("--device \(device): no OpenCL device can be listed here (\(error))") }
                return (cpu(), "no OpenCL (\(error)), so the CPU backend runs")
            }
            if let device, !devices.contains(where: { $0.index == device }) {
                throw BackendOptionError(
                    "--device \(device): there is no OpenCL device \(device) here (\(devices.count) found; see facemine devices)")
            }
            let pick = device.flatMap { i in devices.first { $0.index == i } } ?? devices.first { $0.kind == .gpu }
            guard let pick else {
                let hint = UnregisteredDriver.find().map { "; " + UnregisteredDriver.hint($0) } ?? ""
                return (cpu(), "no OpenCL GPU found, so the CPU backend runs\(hint)")
            }
            do {
                return (try OpenCLBackend(device: pick.index), "picked the OpenCL GPU \(pick.name)")
            } catch {
                return (cpu(), "OpenCL device \(pick.index) (\(pick.name)) failed: \(error); falling back to the CPU backend")
            }
        }
    }
}

/// A backend option that cannot work, in one line.
public struct BackendOptionError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
