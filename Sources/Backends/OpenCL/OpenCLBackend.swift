import CCLBlast
import COpenCL
import FacemineDevice
import Foundation

/// The op contract on an OpenCL device: own kernels (Kernels/*.cl, compiled once per process and
/// cached on disk), GEMM through CLBlast, memory from a buffer pool. Ops enqueue on one in-order
/// queue and return at once; `download` and `synchronize` wait, and report the first failure
/// since the last wait as a one-line `DeviceError`.
///
/// One backend is used from one thread at a time (as the trainer does); several backends may
/// share a device, each with its own queue and kernel objects.
public final class OpenCLBackend: Backend {
    public let kind = BackendKind.opencl
    let shared: OpenCLContext
    var queue: cl_command_queue?
    private var kernels: [String: cl_kernel] = [:]
    let pool: BufferPool
    /// Scratch buffers of the convolution (column matrices), grown on demand and kept.
    var workspace: [OpenCLStorage?] = Array(repeating: nil, count: Scratch.allCases.count)
    /// The first failure since the last synchronisation point.
    var pendingError: DeviceError?
    /// Kernels launched so far, and the injected fault (FACEMINE_OPENCL_FAULT) if any.
    private var launches = 0
    private let fault = InjectedFault.fromEnvironment()
    /// Which convolution algorithm runs each shape: the device's shared tuner; tests give a
    /// backend one of its own.
    lazy var convTuner: ConvTuner = shared.convTuner
    /// Tests: a candidate made slow on purpose while the tuner times it.
    var slowedConvAlgorithm: OpenCLConvAlgorithm?

    /// The device `index` of `OpenCLDevices.all()`, or the first GPU (else device 0) when nil.
    public init(device index: Int? = nil) throws {
        let devices = try OpenCLDevices.all()
        let chosen = index ?? devices.first(where: { $0.kind == .gpu })?.index ?? 0
        shared = try OpenCLContext.shared(device: chosen)
        var status: cl_int = CL_SUCCESS
        guard let queue = clCreateCommandQueue(shared.context, shared.device, 0, &status), status == CL_SUCCESS else {
            throw OpenCLStatus.error(status, "creating a command queue", device: shared.info.name)
        }
        self.queue = queue
        pool = BufferPool(context: shared.context, deviceName: shared.info.name)
        var count: cl_uint = 0
        guard clCreateKernelsInProgram(shared.program, 0, nil, &count) == CL_SUCCESS, count > 0 else {
            throw DeviceError.failed("OpenCL: the kernel program on \(shared.info.name) holds no kernels")
        }
        var made = [cl_kernel?](repeating: nil, count: Int(count))
        status = clCreateKernelsInProgram(shared.program, count, &made, nil)
        guard status == CL_SUCCESS else { throw OpenCLStatus.error(status, "creating kernels", device: shared.info.name) }
        for kernel in made.compactMap({ $0 }) {
            let name = OpenCLDevices.string { clGetKernelInfo(kernel, cl_kernel_info(CL_KERNEL_FUNCTION_NAME), $0, $1, $2) }
            kernels[name] = kernel
        }
    }

    deinit {
        clFinish(queue)
        workspace.removeAll()
        for kernel in kernels.values { clReleaseKernel(kernel) }
        clReleaseCommandQueue(queue)
    }

    public var device: OpenCLDeviceInfo { shared.info }

    public var deviceDescription: String {
        let build = shared.build
        let kernels =
            build.fromDiskCache
            ? String(format: "kernels from the disk cache in %.2f s", build.seconds)
            : String(format: "kernels compiled in %.1f s", build.seconds)
        return
            "OpenCL: \(shared.info.name) (\(shared.info.platform), driver \(shared.info.driverVersion)), GEMM by CLBlast, \(kernels)"
    }

    public var tunedKernelChoices: [String: String] { convTuner.table.mapValues(\.rawValue) }

    public var memoryStatistics: MemoryStatistics {
        MemoryStatistics(liveBytes: pool.liveBytes, allocations: pool.allocations)
    }

    // MARK: failures

    /// Remembers the first failure; it is thrown at the next synchronisation point.
    func record(_ status: cl_int, _ what: @autoclosure () -> String) {
        guard status != CL_SUCCESS, pendingError == nil else { return }
        pendingError = OpenCLStatus.error(status, what(), device: shared.info.name)
    }

    func takePendingError() throws {
        if let error = pendingError {
            pendingError = nil
            throw error
        }
    }

    // MARK: memory and transfers

    public func makeTensor(_ shape: [Int], dtype: DType) throws -> Tensor {
        let bytes = Tensor.elementCount(shape) * dtype.byteSize
        let storage = try pool.take(bytes: bytes)
        var zero: Float = 0
        record(
            clEnqueueFillBuffer(queue, storage.buffer, &zero, 4, 0, storage.byteCount, 0, nil, nil), "zero-filling a new tensor")
        return Tensor(storage: storage, shape: shape, dtype: dtype)
    }

    public func upload(_ values: UnsafeBufferPointer<Float>, to tensor: Tensor) {
        OpContract.upload(values.count, into: tensor, .float32)
        write(UnsafeRawBufferPointer(values), to: tensor)
    }

    public func upload(_ values: UnsafeBufferPointer<Int32>, to tensor: Tensor) {
        OpContract.upload(values.count, into: tensor, .int32)
        write(UnsafeRawBufferPointer(values), to: tensor)
    }

    /// Blocking: the caller's memory may be gone the moment this returns.
    private func write(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) {
        guard bytes.count > 0 else { return }
        record(
            clEnqueueWriteBuffer(queue, tensor.clBuffer, cl_bool(CL_TRUE), 0, bytes.count, bytes.baseAddress, 0, nil, nil),
            "uploading \(bytes.count) bytes")
    }

    public func download(_ tensor: Tensor, into values: UnsafeMutableBufferPointer<Float>) throws {
        OpContract.download(tensor, into: values.count, .float32)
        try read(tensor, into: UnsafeMutableRawBufferPointer(values))
    }

    public func download(_ tensor: Tensor, into values: UnsafeMutableBufferPointer<Int32>) throws {
        OpContract.download(tensor, into: values.count, .int32)
        try read(tensor, into: UnsafeMutableRawBufferPointer(values))
    }

    private func read(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) throws {
        try takePendingError()
        guard bytes.count > 0 else { return }
        let status = clEnqueueReadBuffer(queue, tensor.clBuffer, cl_bool(CL_TRUE), 0, bytes.count, bytes.baseAddress, 0, nil, nil)
        record(status, "downloading \(bytes.count) bytes")
        try takePendingError()
    }

    public func synchronize() throws {
        record(clFinish(queue), "waiting for queued work")
        try takePendingError()
    }

    public func fill(_ tensor: Tensor, with value: Float) {
        guard tensor.count > 0 else { return }
        var pattern = value
        record(clEnqueueFillBuffer(queue, tensor.clBuffer, &pattern, 4, 0, tensor.count * 4, 0, nil, nil), "filling a tensor")
    }

    public func copy(_ source: Tensor, to destination: Tensor) {
        OpContract.copy(source, to: destination)
        guard source.count > 0, source.clBuffer != destination.clBuffer else { return }
        record(
            clEnqueueCopyBuffer(queue, source.clBuffer, destination.clBuffer, 0, 0, source.count * 4, 0, nil, nil),
            "copying a tensor")
    }

    // MARK: launching kernels

    enum Argument {
        case tensor(Tensor)
        case buffer(cl_mem)
        case int(Int)
        case float(Float)
        case uint(UInt32)
    }

    /// Enqueues the kernel over `global` work-items in groups of `KernelProgram.groupSize`
    /// (the global size rounded up; every kernel checks its bound). `groups` launches that many
    /// whole work-groups instead (the reduction kernels). Arguments that do not fit the kernel's
    /// signature stop the program here, naming the kernel, rather than on the device.
    func launch(_ signature: KernelSignature, global: Int? = nil, groups: Int? = nil, _ arguments: [Argument]) {
        let name = signature.name
        guard let kernel = kernels[name] else { preconditionFailure("no OpenCL kernel named \(name)") }
        precondition(
            arguments.count == signature.parameters.count
                && zip(arguments, signature.parameters).allSatisfy { $0.fits($1) },
            "\(name) takes \(signature.parameters), got \(arguments)")
        launches += 1
        if let fault, launches >= fault.afterLaunches {
            record(fault.status, "running kernel \(name) (fault injected by FACEMINE_OPENCL_FAULT)")
            return
        }
        for (i, argument) in arguments.enumerated() {
            let index = cl_uint(i)
            let status: cl_int
            switch argument {
            case .tensor(let t):
                var mem: cl_mem? = t.clBuffer
                status = clSetKernelArg(kernel, index, MemoryLayout<cl_mem>.size, &mem)
            case .buffer(let b):
                var mem: cl_mem? = b
                status = clSetKernelArg(kernel, index, MemoryLayout<cl_mem>.size, &mem)
            case .int(let v):
                precondition(v >= Int(Int32.min) && v <= Int(Int32.max), "\(name): argument \(i) = \(v) exceeds 32 bits")
                var x = cl_int(v)
                status = clSetKernelArg(kernel, index, MemoryLayout<cl_int>.size, &x)
            case .float(let v):
                var x = v
                status = clSetKernelArg(kernel, index, MemoryLayout<Float>.size, &x)
            case .uint(let v):
                var x = v
                status = clSetKernelArg(kernel, index, MemoryLayout<UInt32>.size, &x)
            }
            if status != CL_SUCCESS { record(status, "setting argument \(i) of kernel \(name)"); return }
        }
        let local = KernelProgram.groupSize
        let items: Int
        if let groups {
            items = groups * local
        } else {
            guard let global, global > 0 else { return }
            items = (global + local - 1) / local * local
        }
        guard items > 0 else { return }
        var globalSize = items, localSize = local
        record(clEnqueueNDRangeKernel(queue, kernel, 1, nil, &globalSize, &localSize, 0, nil, nil), "running kernel \(name)")
    }

    /// The scratch buffers ops borrow for the length of one call (the queue runs in order, so
    /// two ops never hold the same slot at once; within one op each slot has one use).
    enum Scratch: Int, CaseIterable {
        /// im2col columns of a chunk of images.
        case columns
        /// A convolution's GEMM output, or the gradient gathered into columns.
        case product
        /// The input gradient's columns, when the forward columns must be kept beside them.
        case inputColumns
        /// Per-slice partial sums of a reduction (split weight-gradient GEMMs, squared norms).
        case partials
        /// A layer's kernels in the Winograd domain (16 x O x C).
        case winogradWeights
    }

    /// The scratch buffer `slot`, at least `bytes` long, grown (never shrunk) on demand.
    func scratch(_ slot: Scratch, bytes: Int) throws -> cl_mem {
        if let s = workspace[slot.rawValue], s.byteCount >= bytes { return s.buffer }
        workspace[slot.rawValue] = nil
        let made = try pool.take(bytes: bytes)
        workspace[slot.rawValue] = made
        return made.buffer
    }
}
