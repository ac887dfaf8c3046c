import FacemineDevice
import FacemineRandom
import Testing

@Suite struct LossAndReductionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let rows: Int, classes: Int, weighted: Bool, smoothing: Double
        var testDescription: String { "\(rows)x\(classes) weighted=\(weighted) smoothing=\(smoothing)" }
    }

    static let cases = [
        Case(rows: 7, classes: 8, weighted: false, smoothing: 0),
        Case(rows: 7, classes: 8, weighted: true, smoothing: 0),
        Case(rows: 64, classes: 8, weighted: false, smoothing: 0.1),
        Case(rows: 5, classes: 3, weighted: true, smoothing: 0.2),
        Case(rows: 1, classes: 8, weighted: true, smoothing: 1),
    ]

    @Test(arguments: BackendUnderTest.all, cases)
    func crossEntropyMatchesPyTorchDefinition(_ target: BackendUnderTest, _ c: Case) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: UInt64(c.rows * 10 + c.classes))
        let logits = rng.values(c.rows * c.classes, scale: 4)
        let labels = (0..<c.rows).map { _ in Int32.random(in: 0..<Int32(c.classes), using: &rng) }
        let weights = c.weighted ? rng.values(c.classes).map { abs($0) + 0.25 } : nil
        let loss = try backend.makeTensor([1]), grad = try backend.makeTensor([c.rows, c.classes])
        backend.softmaxCrossEntropy(
            logits: try backend.makeTensor([c.rows, c.classes], values: logits.floats),
            labels: try backend.makeTensor([c.rows], labels: labels),
            classWeights: try weights.map { try backend.makeTensor([c.classes], values: $0.floats) },
            labelSmoothing: Float(c.smoothing), loss: loss, gradLogits: grad)
        let expected = Reference.crossEntropy(
            logits: logits, labels: labels, classes: c.classes,
            weights: weights, smoothing: c.smoothing)
        expectClose(try backend.floats(loss), [expected.loss], "cross-entropy loss")
        expectClose(try backend.floats(grad), expected.grad, "cross-entropy gradient")
    }

    @Test(arguments: BackendUnderTest.all, [(0.0, false), (2.0, false), (0.5, true), (5.0, true)])
    func focalLossMatchesItsDefinition(_ target: BackendUnderTest, _ c: (gamma: Double, weighted: Bool)) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: 77)
        let rows = 9, classes = 8
        let logits = rng.values(rows * classes, scale: 4)
        let labels = (0..<rows).map { _ in Int32.random(in: 0..<Int32(classes), using: &rng) }
        let weights = c.weighted ? rng.values(classes).map { abs($0) + 0.25 } : nil
        let loss = try backend.makeTensor([1]), grad = try backend.makeTensor([rows, classes])
        let z = try backend.makeTensor([rows, classes], values: logits.floats), y = try backend.makeTensor([rows], labels: labels)
        let w = try weights.map { try backend.makeTensor([classes], values: $0.floats) }
        backend.softmaxFocalLoss(logits: z, labels: y, classWeights: w, gamma: Float(c.gamma), loss: loss, gradLogits: grad)
        let expected = Reference.focal(logits: logits, labels: labels, classes: classes, weights: weights, gamma: c.gamma)
        expectClose(try backend.floats(loss), [expected.loss], "focal loss gamma \(c.gamma)")
        expectClose(try backend.floats(grad), expected.grad, tolerance: 1e-4, "focal gradient gamma \(c.gamma)")
        if c.gamma >= 2 {
            // What focal loss is for: a confidently right row (the one whose true-class logit
            // leads most) pulls less than under cross-entropy.
            let ce = try backend.makeTensor([rows, classes]), scratch = try backend.makeTensor([1])
            backend.softmaxCrossEntropy(logits: z, labels: y, classWeights: w, labelSmoothing: 0, loss: scratch, gradLogits: ce)
            let margin = (0..<rows).map { i in
                logits[i * classes + Int(labels[i])] - (0..<classes).filter { $0 != Int(labels[i]) }.map {
                    logits[i * classes + $0]
                }.max()!
            }
            let easy = margin.indices.max { margin[$0] < margin[$1] }!
            let f = try backend.floats(grad), g = try backend.floats(ce)
            let norm = { (v: [Float]) in (0..<classes).map { abs(v[easy * classes + $0]) }.reduce(0, +) }
            #expect(norm(f) < norm(g), "focal \(norm(f)) vs cross-entropy \(norm(g)) on the easiest row")
        }
        if c.gamma == 0 {
            // gamma 0 is cross-entropy without smoothing.
            let ce = try backend.makeTensor([1])
            backend.softmaxCrossEntropy(logits: z, labels: y, classWeights: w, labelSmoothing: 0, loss: ce, gradLogits: nil)
            expectClose(
                try backend.floats(loss), [Double(try backend.floats(ce)[0])], tolerance: 1e-6, "focal(0) = cross-entropy")
        }
    }

    @Test(arguments: BackendUnderTest.all)
    func argmaxAndSum(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        let x: [Float] = [1, 3, 3, 0, /**/ -1, -2, -0.5, -3, /**/ 0, 0, 0, 0]
        let indices = try backend.makeTensor([3], dtype: .int32)
        backend.argmaxRows(try backend.makeTensor([3, 4], values: x), into: indices)
        #expect(try backend.int32s(indices) == [1, 2, 0], "ties go to the first column")

        var rng = SeededGenerator(seed: 8)
        let big = rng.values(100_003)
        let total = try backend.makeTensor([1])
        backend.sum(try backend.makeTensor([big.count], values: big.floats), into: total)
        let exact = big.reduce(0, +)
        #expect(abs(Double(try backend.floats(total)[0]) - exact) < 1e-3, "sum of 100,003 values")
    }

    @Test(arguments: BackendUnderTest.all)
    func squaredNormsOfManyTensorsAndTheirNonFiniteCases(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: 9)
        // Sizes around the OpenCL launch's partial-sum layout and the CPU's thread split.
        let sizes = [1, 7, 256, 8191, 70_001]
        let values = sizes.map { rng.values($0, scale: 2) }
        var tensors = try values.map { try backend.makeTensor([$0.count], values: $0.floats) }
        tensors.append(try backend.makeTensor([3], values: [1, .nan, 2]))
        tensors.append(try backend.makeTensor([2], values: [.infinity, 0]))
        let norms = try backend.makeTensor([tensors.count])
        backend.squaredNorms(tensors, into: norms)
        let result = try backend.floats(norms)
        for (i, v) in values.enumerated() {
            let exact = v.reduce(0) { $0 + $1 * $1 }
            #expect(abs(Double(result[i]) - exact) <= 1e-5 * exact, "tensor \(i) of \(v.count): \(result[i]) vs \(exact)")
        }
        #expect(result[sizes.count].isNaN, "a NaN element makes its norm NaN")
        #expect(result[sizes.count + 1] == .infinity, "an infinite element makes its norm infinite")
    }
}
