import Dispatch

/// Splits loops across the backend's threads. Work is cut into at most `threads` contiguous
/// ranges of a fixed layout, so results that combine per-range partial sums are deterministic
/// for a given thread count.
struct Parallel {
    let threads: Int

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
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
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
