import FacemineBackends
import Foundation

/// Peak FP32 rates, worked out from what the hardware says about itself. They are the
/// denominators of "% of peak", so each comes with the sentence saying how it was obtained.
enum PeakFLOPS {
    /// threads x clock x FLOP per cycle per core.
    static func cpu(threads: Int) -> (Double?, String) {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return (nil, "unknown: no /proc/cpuinfo")
        }
        func field(_ name: String) -> String? {
            for line in info.split(separator: "\n") where line.hasPrefix(name) {
                if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
        guard let mhz = field("cpu MHz").flatMap(Double.init) else { return (nil, "unknown: /proc/cpuinfo gives no clock") }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let zen4 = field("vendor_id") == "AuthenticAMD" && field("cpu family") == "25"
        let lanes: Int, why: String
        if flags.contains("avx512f") && !zen4 {
            (lanes, why) = (16, "AVX-512")
        } else if flags.contains("avx512f") {
            (lanes, why) = (8, "Zen 4 runs AVX-512 as two 256-bit halves")
        } else if flags.contains("fma") {
            (lanes, why) = (8, "AVX2 + FMA")
        } else {
            (lanes, why) = (4, "SSE")
        }
        let perCycle = 2 * 2 * lanes  // two FMA units, two FLOPs per lane per FMA
        let peak = Double(threads) * mhz / 1000 * Double(perCycle)
        return (peak, String(format: "%d threads x %.0f MHz x %d FLOP/cycle (2 FMA units x %d FP32 lanes x 2; %@), from /proc/cpuinfo",
                             threads, mhz, perCycle, lanes, why))
    }

    /// Compute units x clock x lanes x 2, with lanes per compute unit by vendor: an estimate,
    /// since OpenCL does not report lanes.
    static func openCL(_ d: OpenCLDeviceSummary) -> (Double?, String) {
        let vendor = d.vendor.lowercased()
        let lanes: Int, why: String
        if d.isCPU {
            (lanes, why) = (16, "a CPU device: 2 FMA units x 8 lanes (AVX2-wide) per core")
        } else if vendor.contains("nvidia") {
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
