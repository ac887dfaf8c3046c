import FacemineCPU
import FacemineDevice
import FacemineOpenCL

/// The one place that knows every backend. The CLI and the tests ask it for a backend by
/// name; nothing else imports a backend module.
public enum BackendChoice: String, CaseIterable, Sendable {
    /// The first OpenCL GPU, else the CPU backend (an OpenCL CPU device such as PoCL is slower
    /// than the CPU backend on the same cores, so `auto` never picks one).
    case auto
    case cpu
    case opencl

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
                return (cpu(), "no OpenCL (\(error)), so the CPU backend runs")
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
