import FacemineDevice
import Testing

@Suite struct PhiloxTests {
    /// Known-answer vectors of Philox-4x32-10 from the Random123 distribution (kat_vectors).
    @Test func matchesPublishedVectors() {
        #expect(
            Philox.block(SIMD4(0, 0, 0, 0), key: SIMD2(0, 0))
                == SIMD4(0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8))
        #expect(
            Philox.block(SIMD4(repeating: 0xFFFF_FFFF), key: SIMD2(repeating: 0xFFFF_FFFF))
                == SIMD4(0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD))
        #expect(
            Philox.block(
                SIMD4(0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344),
                key: SIMD2(0xA409_3822, 0x299F_31D0))
                == SIMD4(0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1))
    }

    @Test func eightLaneBlocksEqualSingleBlocks() {
        let c0 = SIMD8<UInt32>(0, 1, 2, 3, 0xFFFF_FFFF, 77, 1 << 31, 5)
        let c1 = SIMD8<UInt32>(9, 8, 7, 6, 5, 4, 3, 2), c2 = SIMD8<UInt32>(repeating: 12), c3 = SIMD8<UInt32>(repeating: 0xABCD)
        let key = SIMD2<UInt32>(0xDEAD_BEEF, 42)
        let (w0, w1, w2, w3) = Philox.blocks(c0, c1, c2, c3, key: key)
        for lane in 0..<8 {
            #expect(
                Philox.block(SIMD4(c0[lane], c1[lane], c2[lane], c3[lane]), key: key)
                    == SIMD4(w0[lane], w1[lane], w2[lane], w3[lane]))
        }
    }

    @Test func uniformIsInUnitIntervalAndRoughlyUniform() {
        var histogram = [Int](repeating: 0, count: 10)
        for i in 0..<100_000 {
            let u = Philox.uniform(seed: 42, step: 7, index: i)
            #expect(u >= 0 && u < 1)
            histogram[Int(u * 10)] += 1
        }
        // Each decile expects 10,000 draws; 5 standard deviations is about 475.
        for count in histogram { #expect(abs(count - 10_000) < 475, "decile count \(count)") }
    }

    @Test func differentStepsAndSeedsGiveDifferentStreams() {
        let a = (0..<64).map { Philox.uniform(seed: 1, step: 0, index: $0) }
        let b = (0..<64).map { Philox.uniform(seed: 1, step: 1, index: $0) }
        let c = (0..<64).map { Philox.uniform(seed: 2, step: 0, index: $0) }
        #expect(a != b && a != c && b != c)
    }
}
