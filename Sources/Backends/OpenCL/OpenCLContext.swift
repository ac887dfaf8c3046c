import COpenCL
import FacemineDevice
import Foundation

/// One OpenCL context and compiled kernel program per device, shared by every backend in the
/// process: building the program (and CLBlast's own kernels, which CLBlast caches per context)
/// then happens once per process, not once per backend.
final class OpenCLContext: @unchecked Sendable {
    let info: OpenCLDeviceInfo
    let device: cl_device_id
    let context: cl_context
    let program: cl_program
    let build: KernelProgram.BuildReport
    /// The convolution algorithm of each shape on this device, shared by its backends.
    let convTuner: ConvTuner

    private static let lock = NSLock()
    nonisolated(unsafe) private static var contexts: [Int: OpenCLContext] = [:]

    /// The shared context of device `index` of `OpenCLDevices.all()`.
    static func shared(device index: Int) throws -> OpenCLContext {
        let devices = try OpenCLDevices.all()
        guard devices.indices.contains(index) else {
            throw DeviceError.unavailable(
                "no OpenCL device \(index): this machine has \(devices.count) (0...\(devices.count - 1)); see `facemine devices`")
        }
        lock.lock()
        defer { lock.unlock() }
        if let existing = contexts[index] { return existing }
        let made = try OpenCLContext(info: devices[index])
        contexts[index] = made
        return made
    }

    private init(info: OpenCLDeviceInfo) throws {
        guard let device = OpenCLDevices.deviceID(index: info.index) else {
            throw DeviceError.unavailable("OpenCL device \(info.index) (\(info.name)) disappeared since it was listed")
        }
        var status: cl_int = CL_SUCCESS
        var target: cl_device_id? = device
        guard let context = clCreateContext(nil, 1, &target, nil, nil, &status), status == CL_SUCCESS else {
            throw OpenCLStatus.error(status, "creating a context", device: info.name)
        }
        do {
            (program, build) = try KernelProgram.build(context: context, device: device, info: info)
        } catch {
            clReleaseContext(context)
            throw error
        }
        self.info = info
        self.device = device
        self.context = context
        convTuner = ConvTuner(
            file: ProgramCache.directory.map {
                ProgramCache.file(
                    in: $0,
                    for: [
                        "convolution algorithms", info.platform, info.name, info.vendor, info.driverVersion,
                        String(ProgramCache.hash(KernelProgram.source), radix: 16),
                    ], extension: "json")
            })
    }
}
