import FacemineData
import Foundation
import Testing

@Suite struct AugmentationTests {
    static let face = ArraySlice((0..<2304).map { UInt8(($0 % 48) * 5) })  // brightness grows left to right

    func apply(_ a: Augmentation, epoch: Int = 0, index: Int = 0, seed: UInt64 = 1) -> [Float] {
        var out = [Float](repeating: -1, count: 2304)
        out.withUnsafeMutableBufferPointer { a.apply(Self.face, seed: seed, epoch: epoch, index: index, into: $0.baseAddress!) }
        return out
    }

    @Test func noneIsTheIdentity() {
        #expect(apply(.none) == Self.face.map { Float($0) / 255 })
    }

    @Test func deterministicBySeedEpochAndFace() {
        let a = Augmentation()
        #expect(apply(a, epoch: 2, index: 7) == apply(a, epoch: 2, index: 7))
        #expect(apply(a, epoch: 2, index: 7) != apply(a, epoch: 3, index: 7))
        #expect(apply(a, epoch: 2, index: 7) != apply(a, epoch: 2, index: 8))
        #expect(apply(a, epoch: 2, index: 7) != apply(a, epoch: 2, index: 7, seed: 2))
    }

    @Test func flipMirrorsForAboutHalfTheFaces() {
        var a = Augmentation.none
        a.flip = true
        let plain = Self.face.map { Float($0) / 255 }
        let mirrored: [Float] = (0..<2304).map { i in
            let row = i / 48, column = i % 48
            return plain[row * 48 + 47 - column]
        }
        var flips = 0
        for i in 0..<400 {
            let out = apply(a, index: i)
            let isMirror = zip(out, mirrored).allSatisfy { abs($0 - $1) < 1e-5 }
            #expect(out == plain || isMirror)
            if out != plain { flips += 1 }
        }
        #expect(flips > 150 && flips < 250, "\(flips) of 400 flipped")
    }

    @Test func eachTransformChangesTheFaceWhenOnAndStaysInRange() {
        var changed: [String: Bool] = [:]
        func check(_ name: String, _ edit: (inout Augmentation) -> Void) {
            var a = Augmentation.none
            edit(&a)
            let outs = (0..<20).map { apply(a, index: $0) }
            changed[name] = outs.contains { $0 != apply(.none) }
            #expect(outs.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 <= 1 } }, "\(name) leaves [0, 1]")
        }
        check("crop") { $0.cropPadding = 4 }
        check("rotation") { $0.rotationDegrees = 15 }
        check("scale") { $0.scale = 0.2 }
        check("shift") { $0.shift = 0.1 }
        check("brightness") { $0.brightness = 0.3 }
        check("contrast") { $0.contrast = 0.3 }
        check("erasing") { $0.erasing = 1 }
        #expect(changed.values.allSatisfy { $0 }, "unchanged: \(changed.filter { !$0.value }.keys.sorted())")
    }
}

@Suite struct BatcherTests {
    @Test func batchesComeInOrderNormalisedAndIdenticalOnAnyWorkerCount() {
        let data = SyntheticFaces(count: 103, seed: 4).generate()
        let order = ShuffledSampler(count: data.count, seed: 9).indices(epoch: 0)
        func collect(workers: Int) -> [Batch] {
            Array(
                PrefetchingBatcher(
                    dataset: data, order: order, batchSize: 10, augmentation: Augmentation(),
                    seed: 3, epoch: 1, prefetch: 2, workers: workers))
        }
        let one = collect(workers: 1), three = collect(workers: 3)
        #expect(one.count == 11 && one.last!.count == 3)
        #expect(one.flatMap(\.indices) == order)
        #expect(one.map(\.images) == three.map(\.images))
        #expect(one.flatMap(\.labels) == order.map { Int32(data.records[$0].label.rawValue) })
        #expect(one.allSatisfy { $0.images.count == $0.count * 2304 && $0.images.allSatisfy { $0 >= -1 && $0 <= 1 } })
        let plain = Array(PrefetchingBatcher(dataset: data, order: [5], batchSize: 4, seed: 3, epoch: 1))
        #expect(plain[0].images == data.image(5).map { (Float($0) / 255 - 0.5) / 0.5 })
        let dropped = PrefetchingBatcher(dataset: data, order: order, batchSize: 10, seed: 0, epoch: 0, dropLast: true)
        #expect(Array(dropped).count == 10)
    }

    @Test func abandoningABatcherEarlyStopsItsWorkers() {
        let data = SyntheticFaces(count: 200, seed: 4).generate()
        for _ in 0..<20 {
            let batcher = PrefetchingBatcher(dataset: data, order: Array(0..<200), batchSize: 8, seed: 0, epoch: 0, prefetch: 2)
            _ = batcher.next()
        }
        // Workers blocked on a full queue would never exit; reaching here with all batchers freed
        // and a fresh one still working shows they do.
        #expect(Array(PrefetchingBatcher(dataset: data, order: Array(0..<16), batchSize: 8, seed: 0, epoch: 0)).count == 2)
    }
}
