import FacemineCPU
import FacemineDevice

/// The one place that knows every backend. The CLI and the tests ask it for a backend by
/// name; nothing else imports a backend module.
public enum BackendChoice: String, CaseIterable, Sendable {
    /// The first OpenCL GPU, else the CPU backend.
    case auto
    case cpu
    case opencl

    /// The backend this choice names, or an error saying why it cannot be had here.
    /// `threads` applies to the CPU backend (nil: FACEMINE_THREADS or all cores).
    public func makeBackend(device: Int? = nil, threads: Int? = nil) throws -> (backend: any Backend, reason: String) {
        switch self {
        case .cpu:
            return (CPUBackend(threads: threads ?? CPUBackend.defaultThreadCount), "asked for the CPU backend")
        case .opencl:
            throw DeviceError.unavailable(
                "the OpenCL backend is not built into this version of facemine yet; use --backend cpu")
        case .auto:
            return (CPUBackend(threads: threads ?? CPUBackend.defaultThreadCount),
                    "no OpenCL backend in this build, so the CPU backend runs")
        }
    }
}
