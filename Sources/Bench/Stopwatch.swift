import Dispatch
import FacemineDevice
import FacemineRandom

/// Median wall time of `repeats` runs after `warmUp` unmeasured ones, each run ending in a
/// synchronisation so queued device work is counted. The median ignores runs disturbed by the
/// rest of the machine; warm-up fills caches, workspaces and buffer pools.
func medianSeconds(_ backend: any Backend, warmUp: Int, repeats: Int, _ body: () throws -> Void) throws -> Double {
    for _ in 0..<warmUp {
        try body()
        try backend.synchronize()
    }
    var times: [Double] = []
    for _ in 0..<max(repeats, 1) {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        try backend.synchronize()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

/// Seconds of one run, synchronised: for first-call costs that only happen once.
func onceSeconds(_ backend: any Backend, _ body: () throws -> Void) throws -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    try backend.synchronize()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Uniform values in [-1, 1): the same inputs on every backend and every run.
func benchValues(_ count: Int, seed: UInt64 = 12345) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return generator.signedFloats(count)
}
