import FacemineData
import FacemineRandom
import Foundation
import Testing

@Suite struct BatchMixingTests {
    /// Four faces, each a constant 0, 1, 2, 3 everywhere: a mixed pixel tells whose it is.
    static let faces: [Float] = (0..<4).flatMap { [Float](repeating: Float($0), count: 2304) }

    @Test func offOrSingleFaceLeavesTheBatchAlone() {
        var images = Self.faces
        #expect(BatchMixing().mix(&images, count: 4, seed: 1, step: 0) == nil)
        var one = Array(Self.faces.prefix(2304))
        #expect(BatchMixing(mixupAlpha: 1).mix(&one, count: 1, seed: 1, step: 0) == nil)
        #expect(images == Self.faces && one == Array(Self.faces.prefix(2304)))
    }

    @Test func mixupBlendsEveryPixelWithThePartnerByTheWeight() throws {
        var images = Self.faces
        let mix = try #require(BatchMixing(mixupAlpha: 0.4).mix(&images, count: 4, seed: 3, step: 5))
        #expect(!mix.cut && mix.weight > 0 && mix.weight < 1)
        #expect(mix.partners.sorted() == [0, 1, 2, 3], "the partners are a permutation")
        for i in 0..<4 {
            let expected = Float(mix.weight) * Float(i) + Float(1 - mix.weight) * Float(mix.partners[i])
            #expect(images[(i * 2304)..<((i + 1) * 2304)].allSatisfy { abs($0 - expected) < 1e-5 }, "face \(i)")
        }
        var again = Self.faces
        #expect(
            BatchMixing(mixupAlpha: 0.4).mix(&again, count: 4, seed: 3, step: 5) == mix && again == images,
            "the same seed and step mix the same way")
        var other = Self.faces
        #expect(BatchMixing(mixupAlpha: 0.4).mix(&other, count: 4, seed: 3, step: 6) != mix)
    }

    @Test func cutMixPastesOneRectangleAndWeighsByTheAreaKept() throws {
        var cuts = 0
        for step in 0..<20 {
            var images = Self.faces
            let mix = try #require(BatchMixing(cutmixAlpha: 1).mix(&images, count: 4, seed: 2, step: step))
            #expect(mix.cut)
            for i in 0..<4 {
                let face = images[(i * 2304)..<((i + 1) * 2304)]
                let own = face.filter { $0 == Float(i) }.count, pasted = face.filter { $0 == Float(mix.partners[i]) }.count
                if mix.partners[i] != i {
                    #expect(own + pasted == 2304, "every pixel is the face's own or its partner's")
                    #expect(abs(Double(own) / 2304 - mix.weight) < 1e-9, "weight \(mix.weight), kept \(own)")
                    if pasted > 0 { cuts += 1 }
                }
            }
        }
        #expect(cuts > 20, "rectangles were pasted (\(cuts))")
    }

    @Test func bothAlphasSwitchBetweenMixupAndCutMix() {
        let kinds = (0..<40).map { step -> Bool in
            var images = Self.faces
            return BatchMixing(mixupAlpha: 0.2, cutmixAlpha: 1).mix(&images, count: 4, seed: 9, step: step)!.cut
        }
        #expect(kinds.contains(true) && kinds.contains(false))
    }

    /// Beta(a, a) is symmetric around 1/2 with variance 1 / (4 (2a + 1)).
    @Test(arguments: [0.2, 1.0, 4.0])
    func betaDrawsHaveTheRightMoments(_ alpha: Double) {
        var rng = SeededGenerator(seed: 11)
        let draws = (0..<20_000).map { _ in rng.symmetricBeta(alpha) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)
        #expect(draws.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(abs(mean - 0.5) < 0.01, "mean \(mean)")
        let expected = 1 / (4 * (2 * alpha + 1))
        #expect(abs(variance - expected) < 0.05 * expected, "variance \(variance), expected \(expected)")
    }
}

@Suite struct TestTimeViewTests {
    /// One face whose pixel value is its position: y * 48 + x.
    static let face: [Float] = (0..<2304).map(Float.init)

    func pixel(_ view: [Float], _ x: Int, _ y: Int) -> Float { view[y * 48 + x] }

    @Test func viewCountsAndTheFaceItselfComesLast() {
        for tta in TestTimeAugmentation.allCases {
            let views = tta.views(of: Self.face, count: 1, shift: 2, fill: -1)
            #expect(views.count == tta.viewCount)
            #expect(views.last == Self.face, "\(tta): the unchanged face last")
        }
    }

    @Test func flipMirrorsEachRow() {
        let views = TestTimeAugmentation.flip.views(of: Self.face + Self.face, count: 2, shift: 2, fill: -1)
        for face in 0..<2 {
            for (x, y) in [(0, 0), (47, 3), (10, 40)] {
                #expect(views[0][face * 2304 + y * 48 + x] == Self.face[y * 48 + 47 - x])
            }
        }
    }

    /// TenCrop of the face padded by `shift`: corner crops are shifts by (+-shift, +-shift) with
    /// the fill moving in, the centre crop is the face; each comes mirrored too, no view twice.
    @Test func tenCropShiftsToTheFourCornersAndMirrors() {
        let shift = 3
        let views = TestTimeAugmentation.tencrop.views(of: Self.face, count: 1, shift: shift, fill: -1)
        #expect(Set(views.map { $0.map(\.bitPattern) }).count == 10, "ten different views")
        // A view shifted right and down by 3: pixel (x, y) shows (x - 3, y - 3); the top rows are fill.
        let downRight = views.first { pixel($0, 10, 10) == Self.face[7 * 48 + 7] }
        #expect(downRight != nil)
        if let v = downRight { #expect(pixel(v, 1, 1) == -1 && pixel(v, 47, 47) == Self.face[44 * 48 + 44]) }
        let upLeft = views.first { pixel($0, 10, 10) == Self.face[13 * 48 + 13] }
        #expect(upLeft != nil)
        if let v = upLeft { #expect(pixel(v, 46, 46) == -1 && pixel(v, 0, 0) == Self.face[3 * 48 + 3]) }
        let mirroredCentre = views.filter { pixel($0, 0, 5) == Self.face[5 * 48 + 47] }
        #expect(mirroredCentre.count == 1, "one mirrored unshifted view")
        let fills = views.map { $0.filter { $0 == -1 }.count }
        #expect(fills.filter { $0 == 0 }.count == 2 && fills.filter { $0 == 2304 - 45 * 45 }.count == 8)
    }
}

@Suite struct AspectJitterTests {
    /// A 16x16 bright square in the middle of a dark face: with aspect jitter its width and height
    /// come out different, by up to the ratio allowed, and deterministically.
    @Test func aspectJitterStretchesOneSideAgainstTheOther() {
        var square = [UInt8](repeating: 0, count: 2304)
        for y in 16..<32 { for x in 16..<32 { square[y * 48 + x] = 255 } }
        var a = Augmentation.none
        a.aspect = 0.5
        var ratios: [Double] = []
        for index in 0..<30 {
            var out = [Float](repeating: 0, count: 2304)
            out.withUnsafeMutableBufferPointer {
                a.apply(ArraySlice(square), seed: 4, epoch: 0, index: index, into: $0.baseAddress!)
            }
            let lit = out.indices.filter { out[$0] > 0.5 }
            let xs = lit.map { $0 % 48 }, ys = lit.map { $0 / 48 }
            ratios.append(Double(xs.max()! - xs.min()! + 1) / Double(ys.max()! - ys.min()! + 1))
        }
        #expect(ratios.contains { $0 > 1.1 } && ratios.contains { $0 < 0.9 }, "ratios \(ratios)")
        #expect(ratios.allSatisfy { $0 < 1.5 * 1.15 && $0 > 1 / (1.5 * 1.15) })
        var off = a
        off.aspect = 0
        var out = [Float](repeating: 0, count: 2304)
        out.withUnsafeMutableBufferPointer { off.apply(ArraySlice(square), seed: 4, epoch: 0, index: 0, into: $0.baseAddress!) }
        #expect(out == square.map { Float($0) / 255 }, "aspect 0 with nothing else on is the identity")
    }
}
