import COpenCL
import FacemineDevice

/// OpenCL and CLBlast status codes turned into the one-line `DeviceError`s users see.
enum OpenCLStatus {
    static func error(_ code: cl_int, _ what: String, device: String) -> DeviceError {
        let name = names[code] ?? "error \(code)"
        switch code {
        case CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES, CL_OUT_OF_HOST_MEMORY, CL_INVALID_BUFFER_SIZE:
            return .outOfMemory(requestedBytes: 0, detail: "\(what) on \(device) failed with \(name)")
        case CL_DEVICE_NOT_AVAILABLE, CL_DEVICE_NOT_FOUND, -9999, -36:
            // -9999 is NVIDIA's "illegal read or write", -36 an invalid (dead) queue: the device is gone.
            return .deviceLost("\(what) on \(device) failed with \(name); the device stopped answering")
        default:
            return .failed("OpenCL: \(what) on \(device) failed with \(name)")
        }
    }

    /// CLBlast returns OpenCL's codes where OpenCL failed, and its own (below -1000) otherwise.
    static func clblastName(_ code: Int32) -> String {
        if let name = names[cl_int(code)] { return name }
        switch code {
        case -2048: return "CLBlast kernel compilation failed"
        case -2047: return "CLBlast routine not implemented for this device"
        case -1024...(-1000): return "CLBlast error \(code) (unsupported precision or bad arguments)"
        default: return "CLBlast error \(code)"
        }
    }

    static let names: [cl_int: String] = [
        CL_DEVICE_NOT_FOUND: "CL_DEVICE_NOT_FOUND",
        CL_DEVICE_NOT_AVAILABLE: "CL_DEVICE_NOT_AVAILABLE",
        CL_COMPILER_NOT_AVAILABLE: "CL_COMPILER_NOT_AVAILABLE",
        CL_MEM_OBJECT_ALLOCATION_FAILURE: "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        CL_OUT_OF_RESOURCES: "CL_OUT_OF_RESOURCES",
        CL_OUT_OF_HOST_MEMORY: "CL_OUT_OF_HOST_MEMORY",
        CL_BUILD_PROGRAM_FAILURE: "CL_BUILD_PROGRAM_FAILURE",
        CL_INVALID_VALUE: "CL_INVALID_VALUE",
        CL_INVALID_DEVICE: "CL_INVALID_DEVICE",
        CL_INVALID_CONTEXT: "CL_INVALID_CONTEXT",
        CL_INVALID_COMMAND_QUEUE: "CL_INVALID_COMMAND_QUEUE",
        CL_INVALID_MEM_OBJECT: "CL_INVALID_MEM_OBJECT",
        CL_INVALID_BINARY: "CL_INVALID_BINARY",
        CL_INVALID_BUILD_OPTIONS: "CL_INVALID_BUILD_OPTIONS",
        CL_INVALID_PROGRAM_EXECUTABLE: "CL_INVALID_PROGRAM_EXECUTABLE",
        CL_INVALID_KERNEL_NAME: "CL_INVALID_KERNEL_NAME",
        CL_INVALID_KERNEL_ARGS: "CL_INVALID_KERNEL_ARGS",
        CL_INVALID_ARG_INDEX: "CL_INVALID_ARG_INDEX",
        CL_INVALID_ARG_SIZE: "CL_INVALID_ARG_SIZE",
        CL_INVALID_WORK_GROUP_SIZE: "CL_INVALID_WORK_GROUP_SIZE",
        CL_INVALID_WORK_DIMENSION: "CL_INVALID_WORK_DIMENSION",
        CL_INVALID_GLOBAL_WORK_SIZE: "CL_INVALID_GLOBAL_WORK_SIZE",
        CL_INVALID_BUFFER_SIZE: "CL_INVALID_BUFFER_SIZE",
        CL_INVALID_OPERATION: "CL_INVALID_OPERATION",
        CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
        -9999: "NVIDIA error -9999 (illegal memory access)",
    ]
}
