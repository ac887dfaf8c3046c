import CWorkerPool

/// Splits loops across the backend's threads. Work is cut into at most `threads` contiguous
/// ranges of a fixed layout, so results that combine per-range partial sums are deterministic
/// for a given thread count, whichever thread runs each range.
///
/// The ranges run on a `WorkerPool` whose threads stay awake between loops: a training step
/// runs hundreds of loops of 0.01-1 ms, and waking a sleeping thread for each (Dispatch's
/// concurrentPerform) took 40-70 microseconds here, more than many of the loops themselves.
struct Parallel {
    let threads: Int
    private let pool: WorkerPool

    init(threads: Int) {
        self.threads = threads
        self.pool = WorkerPool(workers: threads - 1)
    }

    /// Runs `body` over 0..<count in contiguous ranges; runs inline when the loop is too small
    /// (fewer than `grain` items per thread) for the hand-off to pay.
    @inline(__always)
    func forRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        forChunks(count, grain: grain) { _, range in body(range) }
    }

    /// Like `forRanges`, also passing the chunk's index (below `threads`), so each chunk can
    /// use its own slice of a scratch buffer.
    @inline(__always)
    func forChunks(_ count: Int, grain: Int = 1, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = chunkCount(count, grain: grain)
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        // The kernels' copy (AVX-512 or baseline) is chosen per thread; workers follow the caller.
        let baseline = CPUBackend.baselineKernelsForced
        pool.run(chunks) { chunk in
            CPUBackend.useBaselineDirectKernels(baseline)
            body(chunk, Parallel.range(chunk, of: chunks, count: count))
        }
    }

    /// How many chunks `forChunks` splits `count` items into.
    func chunkCount(_ count: Int, grain: Int = 1) -> Int {
        Swift.max(1, Swift.min(threads, count / Swift.max(grain, 1)))
    }

    /// Runs `body(i)` for every i in 0..<count, spread over the threads.
    @inline(__always)
    func forEach(_ count: Int, grain: Int = 1, _ body: (Int) -> Void) {
        forRanges(count, grain: grain) { range in
            for i in range { body(i) }
        }
    }

    /// The `chunk`-th of `chunks` near-equal contiguous pieces of 0..<count.
    static func range(_ chunk: Int, of chunks: Int, count: Int) -> Range<Int> {
        (chunk * count / chunks)..<((chunk + 1) * count / chunks)
    }
}

/// The C pool's threads, owned here so they stop when the backend goes away.
final class WorkerPool {
    private let pool: OpaquePointer

    init(workers: Int) { pool = fm_pool_create(Int32(workers)) }
    deinit { fm_pool_destroy(pool) }

    /// Runs `body(chunk)` for chunk in 0..<chunks on the caller and the workers.
    func run(_ chunks: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { pointer in
                fm_pool_run(
                    pool, Int32(chunks),
                    { context, chunk in
                        context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(chunk))
                    }, pointer)
            }
        }
    }
}
