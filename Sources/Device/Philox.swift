/// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11),
/// the counter-based generator behind dropout. A counter-based generator turns
/// (seed, step, element index) directly into a random number, with no state to carry,
/// so every backend draws the *same* dropout mask for the same seed, whatever order or
/// thread layout it uses. The OpenCL kernel implements the identical function.
public enum Philox {
    static let multiplier0: UInt32 = 0xD251_1F53
    static let multiplier1: UInt32 = 0xCD9E_8D57
    static let weyl0: UInt32 = 0x9E37_79B9
    static let weyl1: UInt32 = 0xBB67_AE85

    /// Ten rounds on one 128-bit counter under a 64-bit key.
    @inline(__always)
    public static func block(_ c: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = c
        var k0 = key.x
        var k1 = key.y
        for _ in 0..<10 {
            let p0 = UInt64(multiplier0) * UInt64(c.x)
            let p1 = UInt64(multiplier1) * UInt64(c.z)
            c = SIMD4(
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c.y ^ k0,
                UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c.w ^ k1,
                UInt32(truncatingIfNeeded: p0))
            k0 &+= weyl0
            k1 &+= weyl1
        }
        return c
    }

    /// The four 32-bit words that cover elements 4*group ..< 4*group+4 of draw `step`.
    /// Counter = (group low, group high, step low, step high); key = seed.
    @inline(__always)
    public static func words(seed: UInt64, step: UInt64, group: UInt64) -> SIMD4<UInt32> {
        block(
            SIMD4(
                UInt32(truncatingIfNeeded: group), UInt32(truncatingIfNeeded: group >> 32),
                UInt32(truncatingIfNeeded: step), UInt32(truncatingIfNeeded: step >> 32)),
            key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// Eight blocks at once, lane by lane identical to `block`: the counters' words as vectors,
    /// so the compiler emits 32x32->64-bit vector multiplies (dropout's hot loop on the CPU).
    @inline(__always)
    public static func blocks(
        _ c0: SIMD8<UInt32>, _ c1: SIMD8<UInt32>, _ c2: SIMD8<UInt32>, _ c3: SIMD8<UInt32>,
        key: SIMD2<UInt32>
    ) -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
        var (x0, x1, x2, x3) = (c0, c1, c2, c3)
        var k0 = key.x, k1 = key.y
        let m0 = SIMD8<UInt64>(repeating: UInt64(multiplier0)), m1 = SIMD8<UInt64>(repeating: UInt64(multiplier1))
        for _ in 0..<10 {
            let p0 = m0 &* SIMD8<UInt64>(truncatingIfNeeded: x0)
            let p1 = m1 &* SIMD8<UInt64>(truncatingIfNeeded: x2)
            let hi0 = SIMD8<UInt32>(truncatingIfNeeded: p0 &>> 32), lo0 = SIMD8<UInt32>(truncatingIfNeeded: p0)
            let hi1 = SIMD8<UInt32>(truncatingIfNeeded: p1 &>> 32), lo1 = SIMD8<UInt32>(truncatingIfNeeded: p1)
            (x0, x1, x2, x3) = (hi1 ^ x1 ^ SIMD8(repeating: k0), lo1, hi0 ^ x3 ^ SIMD8(repeating: k1), lo0)
            k0 &+= weyl0
            k1 &+= weyl1
        }
        return (x0, x1, x2, x3)
    }

    /// Maps a word to [0, 1) using its top 24 bits, exactly representable in Float32.
    @inline(__always)
    public static func unitFloat(_ word: UInt32) -> Float {
        Float(word >> 8) * (1.0 / 16_777_216.0)
    }

    /// The uniform number for one element; dropout keeps the element when it is >= p.
    public static func uniform(seed: UInt64, step: UInt64, index: Int) -> Float {
        let w = words(seed: seed, step: step, group: UInt64(index >> 2))
        return unitFloat(w[index & 3])
    }
}
