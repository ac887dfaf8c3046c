import CBLAS
import FacemineDevice

extension CPUBackend {
    public func argmaxRows(_ x: Tensor, into indices: Tensor) {
        OpContract.argmaxRows(x, into: indices)
        let rows = x.shape[0], columns = x.shape[1]
        let src = x.floats, dst = indices.int32s
        for r in 0..<rows {
            let row = src + r * columns
            var best = 0
            for c in 1..<columns where row[c] > row[best] { best = c }
            dst[r] = Int32(best)
        }
    }

    public func squaredNorms(_ tensors: [Tensor], into result: Tensor) {
        OpContract.squaredNorms(tensors, into: result)
        let dst = result.floats
        let sources = tensors.map { ($0.floats, $0.count) }
        parallel.forEach(sources.count) { i in
            let (x, n) = sources[i]
            // OpenBLAS is single-threaded here; each of our threads takes whole tensors.
            dst[i] = n == 0 ? 0 : cblas_sdot(Int32(n), x, 1, x, 1)
        }
    }

    public func sum(_ x: Tensor, into result: Tensor) {
        OpContract.sum(into: result)
        let src = x.floats, count = x.count
        // Fixed partition + ordered combination: the same total for the same thread count.
        let chunks = Swift.max(1, Swift.min(threads, count / elementwiseGrain))
        withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { partials in
            let base = partials.baseAddress!
            parallel.forEach(chunks) { chunk in
                let r = Parallel.range(chunk, of: chunks, count: count)
                base[chunk] = Double(sumFloats(src + r.lowerBound, r.count))
            }
            var total = 0.0
            for chunk in 0..<chunks { total += base[chunk] }
            result.floats[0] = Float(total)
        }
    }
}
