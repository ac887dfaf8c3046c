import FacemineDevice
import FacemineRandom
import Testing

@Suite struct ElementwiseTests {
    @Test(arguments: BackendUnderTest.all)
    func reluForwardAndBackward(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: 1)
        let x = rng.values(40_001) + [0, -0.0], dy = rng.values(40_003)
        let y = try backend.makeTensor([x.count]), dx = try backend.makeTensor([x.count])
        backend.reluForward(try backend.makeTensor([x.count], values: x.floats), output: y)
        expectClose(try backend.floats(y), x.map { max($0, 0) }, tolerance: 0, "relu")
        backend.reluBackward(gradOutput: try backend.makeTensor([x.count], values: dy.floats), output: y, gradInput: dx)
        expectClose(try backend.floats(dx), x.indices.map { x[$0] > 0 ? dy[$0] : 0 }, tolerance: 0, "relu backward")
    }

    @Test(arguments: BackendUnderTest.all)
    func addAllowsTheOutputToAliasAnInput(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: 2)
        let a = rng.values(33_333), b = rng.values(33_333)
        let ta = try backend.makeTensor([a.count], values: a.floats), tb = try backend.makeTensor([b.count], values: b.floats)
        backend.add(ta, tb, output: ta)
        expectClose(try backend.floats(ta), a.indices.map { Double(Float(a[$0]) + Float(b[$0])) }, tolerance: 0, "a += b")
    }

    @Test(arguments: BackendUnderTest.all)
    func axpbyBlendsInPlace(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: 4)
        let x = rng.values(20_011), y = rng.values(20_011)
        let ty = try backend.makeTensor([y.count], values: y.floats)
        backend.axpby(alpha: 0.3, try backend.makeTensor([x.count], values: x.floats), beta: 0.7, ty)
        expectClose(try backend.floats(ty), x.indices.map { 0.3 * x[$0] + 0.7 * y[$0] }, tolerance: 1e-6, "0.3 x + 0.7 y")
    }

    @Test(arguments: BackendUnderTest.all, [[5, 3], [2, 4, 3, 5]])
    func biasAddAndGradient(_ target: BackendUnderTest, _ shape: [Int]) throws {
        let backend = try target.make()
        let c = shape[1], plane = Tensor.elementCount(shape) / (shape[0] * c)
        var rng = SeededGenerator(seed: 3)
        let x = rng.values(Tensor.elementCount(shape)), b = rng.values(c)
        let tx = try backend.makeTensor(shape, values: x.floats)
        backend.addBias(tx, bias: try backend.makeTensor([c], values: b.floats))
        expectClose(try backend.floats(tx), x.indices.map { x[$0] + b[($0 / plane) % c] }, "bias add")
        let db = try backend.makeTensor([c])
        backend.biasGradient(try backend.makeTensor(shape, values: x.floats), into: db)
        var expected = [Double](repeating: 0, count: c)
        for i in x.indices { expected[(i / plane) % c] += x[i] }
        expectClose(try backend.floats(db), expected, "bias gradient")
    }

    @Test(arguments: BackendUnderTest.all, [Float(0.5), 0.1, 0])
    func dropoutDrawsThePhiloxMaskExactly(_ target: BackendUnderTest, _ p: Float) throws {
        let backend = try target.make()
        let count = 50_003, seed: UInt64 = 0xFACE, step: UInt64 = 12
        var rng = SeededGenerator(seed: 4)
        let x = rng.values(count).floats
        let y = try backend.makeTensor([count])
        backend.dropoutForward(try backend.makeTensor([count], values: x), output: y, probability: p, seed: seed, step: step)
        let kept = (0..<count).map { Philox.uniform(seed: seed, step: step, index: $0) >= p }
        let expected = (0..<count).map { kept[$0] ? Double(x[$0] * (1 / (1 - p))) : 0 }
        let actual = try backend.floats(y)
        #expect(actual == expected.floats, "dropout forward must equal the Philox mask bit for bit")
        let dropped = Double(kept.filter { !$0 }.count) / Double(count)
        #expect(abs(dropped - Double(p)) < 0.01, "dropped fraction \(dropped) for p = \(p)")

        let dx = try backend.makeTensor([count])
        backend.dropoutBackward(
            gradOutput: try backend.makeTensor([count], values: x), gradInput: dx,
            probability: p, seed: seed, step: step)
        #expect(try backend.floats(dx) == actual, "dropout backward must reuse the forward mask")

        let other = try backend.makeTensor([count])
        backend.dropoutForward(
            try backend.makeTensor([count], values: x), output: other, probability: p, seed: seed, step: step + 1)
        if p > 0 { #expect(try backend.floats(other) != actual, "a new step draws a new mask") }
    }

    @Test(arguments: BackendUnderTest.all)
    func fillAndCopy(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        let a = try backend.makeTensor([3, 50_000]), b = try backend.makeTensor([150_000])
        #expect(try backend.floats(a).allSatisfy { $0 == 0 }, "new tensors are zero-filled")
        backend.fill(a, with: 2.5)
        backend.copy(a, to: b)
        #expect(try backend.floats(b).allSatisfy { $0 == 2.5 })
        let labels = try backend.makeTensor([4], labels: [3, -1, 7, 0])
        #expect(try backend.int32s(labels) == [3, -1, 7, 0])
    }
}
