import CBLAS
import FacemineDevice
import Foundation

/// The multithreaded CPU backend: GEMM through OpenBLAS, everything else in Swift kernels,
/// all spread over `threads` threads.
///
/// OpenBLAS runs single-threaded and facemine's threads call it on blocks of each product
/// (or on whole per-image products inside convolutions). One pool of threads does all the
/// work, so BLAS threads never oversubscribe the cores or spin while our loops run.
/// Like every backend, an instance is driven from one thread at a time.
public final class CPUBackend: Backend {
    public let kind = BackendKind.cpu
    public let threads: Int
    let parallel: Parallel
    let workspace = Workspace()
    private let memory = MemoryCounter()

    /// Bytes of im2col matrix built per chunk of images. A few MiB keeps the matrix in the
    /// last-level cache while leaving BLAS a product several thousand columns wide.
    /// Settable so tests can force many chunks on small shapes and benchmarks can tune it.
    public var columnChunkBytes = 6 << 20

    /// Bytes from which a layout copy is written around the caches (non-temporal stores): one
    /// that large cannot wait in the last-level cache (32 MB here) for the kernel that reads it.
    /// Settable so tests can run that path on small shapes.
    public var cacheBypassBytes = 32 << 20

    /// When set, every convolution's time is recorded in it (the op benchmark's in-model mode).
    public var convolutionLog: ConvolutionLog?

    /// The thread count facemine uses when none is given: `FACEMINE_THREADS` if set, else every
    /// active core.
    public static var defaultThreadCount: Int {
        if let text = ProcessInfo.processInfo.environment["FACEMINE_THREADS"],
            let n = Int(text), n > 0
        {
            return n
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    public init(threads: Int = CPUBackend.defaultThreadCount) {
        precondition(threads > 0, "thread count must be positive")
        self.threads = threads
        self.parallel = Parallel(threads: threads)
        openblas_set_num_threads(1)
    }

    /// The BLAS library and the kernel it picked for this processor, e.g. "OpenBLAS 0.3.21 (Haswell)".
    public static var blasDescription: String {
        let config = String(cString: openblas_get_config()).split(separator: " ")
        let version = config.count > 1 ? " " + config[1] : ""
        return "OpenBLAS\(version) (\(String(cString: openblas_get_corename())) kernel\(OpenBLASCore.note))"
    }

    public var deviceDescription: String {
        "CPU: \(threads) thread\(threads == 1 ? "" : "s"), \(CPUBackend.blasDescription)"
    }

    public var memoryStatistics: MemoryStatistics {
        var s = memory.snapshot
        s.liveBytes += workspace.bytes
        s.allocations += workspace.growths
        return s
    }

    // MARK: memory and transfers

    public func makeTensor(_ shape: [Int], dtype: DType) throws -> Tensor {
        let bytes = Tensor.elementCount(shape) * dtype.byteSize
        let counter = memory
        let storage = try CPUStorage(byteCount: bytes) { counter.released($0) }
        counter.allocated(bytes)
        return Tensor(storage: storage, shape: shape, dtype: dtype)
    }

    public func upload(_ values: UnsafeBufferPointer<Float>, to tensor: Tensor) {
        OpContract.upload(values.count, into: tensor, .float32)
        tensor.floats.update(from: values.baseAddress!, count: values.count)
    }

    public func upload(_ values: UnsafeBufferPointer<Int32>, to tensor: Tensor) {
        OpContract.upload(values.count, into: tensor, .int32)
        tensor.int32s.update(from: values.baseAddress!, count: values.count)
    }

    public func download(_ tensor: Tensor, into values: UnsafeMutableBufferPointer<Float>) throws {
        OpContract.download(tensor, into: values.count, .float32)
        values.baseAddress!.update(from: tensor.floats, count: values.count)
    }

    public func download(_ tensor: Tensor, into values: UnsafeMutableBufferPointer<Int32>) throws {
        OpContract.download(tensor, into: values.count, .int32)
        values.baseAddress!.update(from: tensor.int32s, count: values.count)
    }

    /// CPU ops run to completion when called, so there is never anything to wait for.
    public func synchronize() throws {}

    public func fill(_ tensor: Tensor, with value: Float) {
        let p = tensor.floats
        parallel.forRanges(tensor.count, grain: 1 << 15) { r in
            (p + r.lowerBound).update(repeating: value, count: r.count)
        }
    }

    public func copy(_ source: Tensor, to destination: Tensor) {
        OpContract.copy(source, to: destination)
        let s = source.cpuStorage.pointer, d = destination.cpuStorage.pointer
        let width = source.dtype.byteSize
        parallel.forRanges(source.count, grain: 1 << 15) { r in
            (d + r.lowerBound * width).copyMemory(from: s + r.lowerBound * width, byteCount: r.count * width)
        }
    }
}

/// Live bytes and allocation count; tensors may be released on any thread, hence the lock.
final class MemoryCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var stats = MemoryStatistics()

    func allocated(_ bytes: Int) {
        lock.lock(); defer { lock.unlock() }
        stats.liveBytes += bytes
        stats.allocations += 1
    }

    func released(_ bytes: Int) {
        lock.lock(); defer { lock.unlock() }
        stats.liveBytes -= bytes
    }

    var snapshot: MemoryStatistics {
        lock.lock(); defer { lock.unlock() }
        return stats
    }
}
