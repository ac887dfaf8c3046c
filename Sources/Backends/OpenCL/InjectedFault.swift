import COpenCL
import Foundation

/// A device failure on demand, so the reliability tests can prove what a user sees when a GPU
/// runs out of memory or falls off the bus mid-run: `FACEMINE_OPENCL_FAULT=oom@N` or `lost@N`
/// makes kernel launch N and every later one fail as the driver would report it.
struct InjectedFault {
    let status: cl_int
    let afterLaunches: Int

    static func fromEnvironment() -> InjectedFault? {
        guard let spec = ProcessInfo.processInfo.environment["FACEMINE_OPENCL_FAULT"] else { return nil }
        let parts = spec.split(separator: "@")
        guard parts.count == 2, let n = Int(parts[1]), n > 0 else { return nil }
        switch parts[0] {
        case "oom": return InjectedFault(status: CL_MEM_OBJECT_ALLOCATION_FAILURE, afterLaunches: n)
        case "lost": return InjectedFault(status: CL_DEVICE_NOT_AVAILABLE, afterLaunches: n)
        default: return nil
        }
    }
}
