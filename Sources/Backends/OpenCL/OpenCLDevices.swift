import COpenCL
import Foundation
import FacemineDevice

/// What `facemine devices` and `--backend opencl --device N` need to know about one OpenCL
/// device: found through the ICD loader, so any vendor's driver (or PoCL on a CPU) appears.
public struct OpenCLDeviceInfo: Sendable, Equatable {
    public enum Kind: String, Sendable { case gpu = "GPU", cpu = "CPU", accelerator = "accelerator", other }

    /// Position in the list every command uses (`--device N`).
    public let index: Int
    public let platform: String
    public let name: String
    public let vendor: String
    public let driverVersion: String
    public let openCLVersion: String
    public let kind: Kind
    public let computeUnits: Int
    public let clockMHz: Int
    public let globalMemoryBytes: UInt64
    public let supportsFP16: Bool
}

public enum OpenCLDevices {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var discovered: Result<[OpenCLDeviceInfo], Error>?
    nonisolated(unsafe) private static var ids: [cl_device_id] = []

    /// The driver's handle for device `index` of `all()`.
    static func deviceID(index: Int) -> cl_device_id? {
        lock.lock()
        defer { lock.unlock() }
        return ids.indices.contains(index) ? ids[index] : nil
    }

    /// Every device of every platform, platforms in the loader's order. Throws a one-line
    /// `DeviceError.unavailable` when no ICD or no platform is installed.
    ///
    /// Discovery runs once per process, under a lock: PoCL's first-call initialisation crashes
    /// when two threads enter it at once (seen with parallel tests).
    public static func all() throws -> [OpenCLDeviceInfo] {
        lock.lock()
        defer { lock.unlock() }
        if discovered == nil { discovered = Result { try discover() } }
        return try discovered!.get()
    }

    private static func discover() throws -> [OpenCLDeviceInfo] {
        var platformCount: cl_uint = 0
        // With no ICD at all the loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001): the same story.
        guard clGetPlatformIDs(0, nil, &platformCount) == CL_SUCCESS, platformCount > 0 else {
            throw DeviceError.unavailable(
                "no OpenCL platform found (no ICD installed?): install your GPU vendor's OpenCL driver, "
                    + "or pocl-opencl-icd for an OpenCL device on the CPU")
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        guard clGetPlatformIDs(platformCount, &platforms, nil) == CL_SUCCESS else {
            throw DeviceError.unavailable("the OpenCL loader could not list its platforms")
        }
        var devices: [OpenCLDeviceInfo] = []
        for platform in platforms.compactMap({ $0 }) {
            let platformName = platformString(platform, cl_platform_info(CL_PLATFORM_NAME))
            var count: cl_uint = 0
            guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count) == CL_SUCCESS, count > 0 else {
                continue
            }
            var ids = [cl_device_id?](repeating: nil, count: Int(count))
            guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), count, &ids, nil) == CL_SUCCESS else { continue }
            for device in ids.compactMap({ $0 }) {
                Self.ids.append(device)
                let type: cl_device_type = value(device, cl_device_info(CL_DEVICE_TYPE))
                let kind: OpenCLDeviceInfo.Kind =
                    type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0
                    ? .gpu
                    : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0
                        ? .cpu
                        : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator : .other
                let extensions = deviceString(device, cl_device_info(CL_DEVICE_EXTENSIONS))
                devices.append(
                    OpenCLDeviceInfo(
                        index: devices.count, platform: platformName,
                        name: deviceString(device, cl_device_info(CL_DEVICE_NAME)),
                        vendor: deviceString(device, cl_device_info(CL_DEVICE_VENDOR)),
                        driverVersion: deviceString(device, cl_device_info(CL_DRIVER_VERSION)),
                        openCLVersion: deviceString(device, cl_device_info(CL_DEVICE_VERSION)),
                        kind: kind,
                        computeUnits: Int(value(device, cl_device_info(CL_DEVICE_MAX_COMPUTE_UNITS)) as cl_uint),
                        clockMHz: Int(value(device, cl_device_info(CL_DEVICE_MAX_CLOCK_FREQUENCY)) as cl_uint),
                        globalMemoryBytes: value(device, cl_device_info(CL_DEVICE_GLOBAL_MEM_SIZE)) as cl_ulong,
                        supportsFP16: extensions.split(separator: " ").contains("cl_khr_fp16")))
            }
        }
        guard !devices.isEmpty else {
            throw DeviceError.unavailable("OpenCL platforms are installed but offer no device")
        }
        return devices
    }

    static func platformString(_ platform: cl_platform_id, _ info: cl_platform_info) -> String {
        string { clGetPlatformInfo(platform, info, $0, $1, $2) }
    }

    static func deviceString(_ device: cl_device_id, _ info: cl_device_info) -> String {
        string { clGetDeviceInfo(device, info, $0, $1, $2) }
    }

    /// OpenCL's two-call pattern for strings: ask the size, then fill a buffer of that size.
    static func string(_ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> String {
        var size = 0
        guard query(0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size)
        guard bytes.withUnsafeMutableBytes({ query(size, $0.baseAddress, nil) }) == CL_SUCCESS else { return "" }
        return String(cString: bytes).trimmingCharacters(in: .whitespaces)
    }

    static func value<T: FixedWidthInteger>(_ device: cl_device_id, _ info: cl_device_info) -> T {
        var result: T = 0
        _ = clGetDeviceInfo(device, info, MemoryLayout<T>.size, &result, nil)
        return result
    }
}
