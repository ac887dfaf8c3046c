import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): small, fast, and good enough for shuffles, sampling,
/// augmentation, drawing faces and the inputs of tests and benchmarks; facemine's one seeded
/// generator. Streams are keyed by several numbers (seed, purpose, epoch, index...) so every
/// random decision in the data pipeline is reproducible on its own, whatever order or thread
/// computes it. (Dropout's masks use Philox in FacemineDevice instead: a GPU kernel draws them
/// again from the same counters.)
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one purpose, independent of the generators for other keys.
    public init(seed: UInt64, _ keys: UInt64...) {
        var s = SeededGenerator.mix(seed)
        for k in keys { s = SeededGenerator.mix(s ^ SeededGenerator.mix(k &+ 0x632B_E59B_D9B4_E019)) }
        state = s
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SeededGenerator.mix(state)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// `count` floats uniform in [-scale, scale): the same inputs for every backend and run.
    public mutating func signedFloats(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in Float(uniform(-1, 1)) * scale }
    }

    /// Standard normal (Box-Muller), for pixel noise.
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Gamma(shape, 1) by Marsaglia & Tsang (2000); shapes below 1 by the boost
    /// Gamma(a) = Gamma(a + 1) * U^(1/a).
    public mutating func gamma(_ shape: Double) -> Double {
        precondition(shape > 0, "gamma shape must be positive")
        if shape < 1 { return gamma(shape + 1) * pow(max(unit(), 1e-300), 1 / shape) }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal(), v0 = 1 + c * x
            guard v0 > 0 else { continue }
            let v = v0 * v0 * v0, u = unit()
            if log(max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
        }
    }

    /// Beta(alpha, alpha): the mixing weight of mixup and CutMix.
    public mutating func symmetricBeta(_ alpha: Double) -> Double {
        let x = gamma(alpha), y = gamma(alpha)
        return x + y > 0 ? x / (x + y) : 0.5
    }
}
