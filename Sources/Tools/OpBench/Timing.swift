import Dispatch

/// Median wall time of `repeats` runs after `warmUp` unmeasured ones, in seconds.
/// Medians ignore the odd run disturbed by the machine; warm-up fills caches and workspaces.
func medianSeconds(warmUp: Int = 2, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmUp { try body() }
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    times.sort()
    return times[times.count / 2]
}
