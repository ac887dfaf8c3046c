import Dispatch

/// Median wall time of `repeats` runs after `warmUp` unmeasured ones, in seconds.
/// The median ignores runs disturbed by the rest of the machine; warm-up fills caches and
/// workspaces.
func medianSeconds(warmUp: Int = 2, repeats: Int, _ body: () -> Void) -> Double {
    for _ in 0..<warmUp { body() }
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}
