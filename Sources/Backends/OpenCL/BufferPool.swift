import COpenCL
import FacemineDevice
import Foundation

/// Device memory behind one tensor. When the tensor's last view goes away the buffer goes back
/// to its pool instead of to the driver, so a training step's temporaries are recycled.
final class OpenCLStorage: DeviceStorage {
    let buffer: cl_mem
    let byteCount: Int
    private let pool: BufferPool

    init(buffer: cl_mem, byteCount: Int, pool: BufferPool) {
        self.buffer = buffer
        self.byteCount = byteCount
        self.pool = pool
    }

    deinit { pool.giveBack(buffer, byteCount: byteCount) }
}

/// Freed device buffers kept by size bucket for reuse: a steady-state training step allocates
/// nothing from the driver. Buckets are powers of two split in four (at most 25% slack), so
/// tensors of nearby sizes share buffers.
final class BufferPool: @unchecked Sendable {
    private let context: cl_context
    private let deviceName: String
    private let lock = NSLock()
    private var free: [Int: [cl_mem]] = [:]
    private(set) var liveBytes = 0
    private(set) var pooledBytes = 0
    private(set) var allocations = 0

    init(context: cl_context, deviceName: String) {
        self.context = context
        self.deviceName = deviceName
    }

    deinit {
        for buffers in free.values { for b in buffers { clReleaseMemObject(b) } }
    }

    static func bucket(_ bytes: Int) -> Int {
        let size = max(bytes, 256)
        let top = Int.bitWidth - 1 - (size - 1).leadingZeroBitCount  // floor(log2(size - 1))
        let quarter = max((1 << top) / 4, 1)
        return (size + quarter - 1) / quarter * quarter
    }

    func take(bytes: Int) throws -> OpenCLStorage {
        let size = Self.bucket(bytes)
        lock.lock()
        defer { lock.unlock() }
        if var list = free[size], let buffer = list.popLast() {
            free[size] = list
            pooledBytes -= size
            liveBytes += size
            return OpenCLStorage(buffer: buffer, byteCount: size, pool: self)
        }
        var status: cl_int = CL_SUCCESS
        var buffer = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), size, nil, &status)
        if buffer == nil || status != CL_SUCCESS, pooledBytes > 0 {
            // Out of memory with buffers parked in the pool: hand them back and try once more.
            for list in free.values { for b in list { clReleaseMemObject(b) } }
            free.removeAll()
            pooledBytes = 0
            buffer = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), size, nil, &status)
        }
        guard let buffer, status == CL_SUCCESS else {
            throw DeviceError.outOfMemory(
                requestedBytes: size, detail: "\(deviceName) refused a \(size)-byte buffer (\(liveBytes) bytes in use)")
        }
        allocations += 1
        liveBytes += size
        return OpenCLStorage(buffer: buffer, byteCount: size, pool: self)
    }

    fileprivate func giveBack(_ buffer: cl_mem, byteCount: Int) {
        lock.lock()
        defer { lock.unlock() }
        free[byteCount, default: []].append(buffer)
        liveBytes -= byteCount
        pooledBytes += byteCount
    }
}

extension Tensor {
    /// The device buffer of a tensor; only OpenCL tensors may be passed to the OpenCL backend.
    var clBuffer: cl_mem {
        guard let s = storage as? OpenCLStorage else {
            preconditionFailure("a tensor from another backend was passed to the OpenCL backend")
        }
        return s.buffer
    }
}
