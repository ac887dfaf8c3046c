import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): small, fast, and good enough for shuffles, sampling,
/// augmentation and drawing faces. Streams are keyed by several numbers (seed, purpose,
/// epoch, index...) so every random decision in the data pipeline is reproducible on its own,
/// whatever order or thread computes it.
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

    /// Standard normal (Box-Muller), for pixel noise.
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// Stream purposes, so two uses of one seed never draw the same numbers.
enum Stream: UInt64 {
    case identity = 1, face, shuffle, sampler, augmentation, folds, labels, faceExtras
}

