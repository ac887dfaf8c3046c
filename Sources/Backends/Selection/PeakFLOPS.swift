import CPeak
import Dispatch
import Foundation

/// Peak FP32 rates, worked out from what the hardware says about itself. They are the
/// denominators of "% of peak", so each comes with the sentence saying how it was obtained.
enum PeakFLOPS {
    /// Measured, not computed: every thread runs a loop of independent fused multiply-adds on
    /// the widest vectors the CPU has (CPeak) at the same time, and the rates add up. A VM's
    /// /proc/cpuinfo gives the base clock, not the boost clock the cores run at (here OpenBLAS
    /// reached 1.4x of threads x base clock x 64 FLOP/cycle), so a computed peak would be wrong.
    static func cpu(threads: Int) -> (Double?, String) {
        let lanes = Int(fm_fma_lanes())
        guard lanes > 0 else { return (nil, "unknown: no AVX2/FMA or AVX-512 on this CPU") }
        let iterations = 20_000_000
        var best = 0.0
        // The best of three, each about 0.1-0.2 s: the peak is what the cores can do, so a run
        // disturbed by the rest of the machine should not lower it.
        for _ in 0..<3 {
            var rates = [Double](repeating: 0, count: threads)
            rates.withUnsafeMutableBufferPointer { r in
                let base = r.baseAddress!
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    var sink: Float = 0
                    let start = DispatchTime.now().uptimeNanoseconds
                    let flops = fm_fma_peak_loop(iterations, &sink)
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    base[t] = sink.isNaN ? 0 : flops / seconds / 1e9
                }
            }
            best = max(best, rates.reduce(0, +))
        }
        return (
            best,
            String(
                format: "measured: %d threads each running independent %d-lane FMAs (%.0f GFLOP/s per thread)",
                threads, lanes, best / Double(threads))
        )
    }

    /// Compute units x clock x lanes x 2, with lanes per compute unit by vendor: an estimate,
    /// since OpenCL does not report lanes. An OpenCL CPU device (PoCL) gets the measured CPU peak
    /// per core times its compute units.
    static func openCL(_ d: OpenCLDeviceSummary) -> (Double?, String) {
        if d.isCPU {
            let (peak, how) = cpu(threads: d.computeUnits)
            return (peak, "\(how) (a CPU device: the CPU's own peak on its \(d.computeUnits) compute units)")
        }
        let vendor = d.vendor.lowercased()
        let lanes: Int, why: String
        if vendor.contains("nvidia") {
            (lanes, why) = (128, "NVIDIA: 128 FP32 lanes per SM (Ampere and later)")
        } else if vendor.contains("amd") || vendor.contains("advanced micro") {
            (lanes, why) = (64, "AMD: 64 lanes per CU")
        } else if vendor.contains("intel") {
            (lanes, why) = (8, "Intel: 8 lanes per EU")
        } else {
            return (nil, "unknown vendor \(d.vendor): no estimate")
        }
        let peak = Double(d.computeUnits) * Double(d.clockMHz) / 1000 * Double(lanes) * 2
        return (peak, "estimate: \(d.computeUnits) compute units x \(d.clockMHz) MHz x \(lanes) lanes x 2 (\(why))")
    }
}
