import CPeak

/// Memory bandwidth, the other roof next to the FP32 peak: an op that moves more bytes per
/// FLOP than peak / bandwidth cannot reach the peak on any implementation, so its rate is
/// judged against the bandwidth instead (`Roofline`).
enum MemoryBandwidth {
    /// Every thread copies its slice of two 128 MiB buffers at the same time (far larger than
    /// any last-level cache); bytes as STREAM counts a copy (read + write). The best of ten
    /// passes after an untimed one: on a shared VM single passes here ranged from 60 to 82 GB/s,
    /// and the highest rate is the roof (a lower one would call more ops memory-bound).
    static func cpu(threads: Int) -> (Double?, String?) {
        let floats = 32 << 20
        let src = UnsafeMutablePointer<Float>.allocate(capacity: floats),
            dst = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        defer { src.deallocate(); dst.deallocate() }
        // Touch every page first, so the first pass does not time the kernel handing them out.
        src.initialize(repeating: 1, count: floats)
        dst.initialize(repeating: 0, count: floats)
        var best = 0.0
        for pass in 0..<11 {
            let seconds = fm_stream_copy_seconds(dst, src, floats, Int32(threads))
            if pass > 0 && seconds > 0 { best = max(best, 8 * Double(floats) / seconds / 1e9) }
        }
        guard best > 0 else { return (nil, "not measured: could not start \(threads) threads") }
        return (best, String(format: "measured: %d threads copying 128 MiB (read + write counted, as STREAM does)", threads))
    }
}
