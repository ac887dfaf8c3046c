import FacemineDevice
import FacemineRandom
import Foundation
import Testing

/// Finite-difference checks of every backward pass in Double. The conformance tests compare each
/// backend with `Reference`; these prove the reference's backward passes are the true gradients
/// of its forward passes, closing the loop.
///
/// Each check differentiates L(x) = sum_i r_i * f(x)_i for a random r, so one backward call
/// (with gradOutput = r) is compared with central differences over every input.
@Suite struct GradientCheckTests {
    static func numericalGradient(_ x: [Double], step h: Double = 1e-5, _ loss: ([Double]) -> Double) -> [Double] {
        x.indices.map { i in
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            return (loss(plus) - loss(minus)) / (2 * h)
        }
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    static func expectGradient(
        _ analytic: [Double], _ numeric: [Double], _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let scale = max(numeric.map { abs($0) }.max() ?? 0, 1e-8)
        let worst = zip(analytic, numeric).map { abs($0 - $1) / scale }.max() ?? 0
        #expect(
            worst < 1e-6, "\(what): analytic and numerical gradients differ by \(worst) (relative)",
            sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ConvGeometry(batch: 2, inChannels: 3, height: 5, width: 6, outChannels: 2, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 1, inChannels: 2, height: 4, width: 4, outChannels: 3, kernel: 3, stride: 1, padding: 3),
        ConvGeometry(batch: 2, inChannels: 2, height: 5, width: 5, outChannels: 2, kernel: 1, stride: 2, padding: 0),
    ])
    func convolution(_ g: ConvGeometry) {
        var rng = SeededGenerator(seed: 21)
        let x = rng.values(Tensor.elementCount(g.inputShape)), w = rng.values(Tensor.elementCount(g.weightShape))
        let b = rng.values(g.outChannels), r = rng.values(Tensor.elementCount(g.outputShape))
        let analytic = Reference.convBackward(g, input: x, weight: w, gradOutput: r)
        Self.expectGradient(
            analytic.input, Self.numericalGradient(x) { Self.dot(r, Reference.convForward(g, input: $0, weight: w, bias: b)) },
            "conv input")
        Self.expectGradient(
            analytic.weight, Self.numericalGradient(w) { Self.dot(r, Reference.convForward(g, input: x, weight: $0, bias: b)) },
            "conv weight")
        Self.expectGradient(
            analytic.bias, Self.numericalGradient(b) { Self.dot(r, Reference.convForward(g, input: x, weight: w, bias: $0)) },
            "conv bias")
    }

    @Test(arguments: [[3, 2, 3, 2], [2, 3, 1, 1]])
    func batchNorm(_ shape: [Int]) {
        var rng = SeededGenerator(seed: 22)
        let c = shape[1]
        let x = rng.values(Tensor.elementCount(shape)), gamma = rng.values(c), beta = rng.values(c)
        let r = rng.values(x.count)
        let zeros = [Double](repeating: 0, count: c), ones = [Double](repeating: 1, count: c)
        func forward(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> Double {
            Self.dot(
                r,
                Reference.batchNormTraining(
                    x, shape: shape, gamma: gamma, beta: beta, runningMean: zeros,
                    runningVariance: ones, momentum: 0.1, epsilon: 1e-5
                ).output)
        }
        let analytic = Reference.batchNormBackward(x, shape: shape, gamma: gamma, gradOutput: r, epsilon: 1e-5)
        Self.expectGradient(analytic.input, Self.numericalGradient(x) { forward($0, gamma, beta) }, "batch norm input")
        Self.expectGradient(analytic.gamma, Self.numericalGradient(gamma) { forward(x, $0, beta) }, "batch norm gamma")
        Self.expectGradient(analytic.beta, Self.numericalGradient(beta) { forward(x, gamma, $0) }, "batch norm beta")
    }

    @Test func maxPool() {
        let g = PoolGeometry(batch: 2, channels: 2, height: 5, width: 5, kernel: 3, stride: 2, padding: 1)
        var rng = SeededGenerator(seed: 23)
        let x = rng.values(Tensor.elementCount(g.inputShape)), r = rng.values(Tensor.elementCount(g.outputShape))
        let analytic = Reference.maxPoolBackward(g, gradOutput: r, indices: Reference.maxPool(g, input: x).indices)
        Self.expectGradient(
            analytic, Self.numericalGradient(x) { Self.dot(r, Reference.maxPool(g, input: $0).output) }, "max pool")
    }

    @Test func globalAveragePool() {
        let shape = [2, 3, 3, 2]
        var rng = SeededGenerator(seed: 24)
        let x = rng.values(Tensor.elementCount(shape)), r = rng.values(6)
        let analytic = x.indices.map { r[$0 / 6] / 6 }
        Self.expectGradient(
            analytic, Self.numericalGradient(x) { Self.dot(r, Reference.globalAvgPool($0, shape: shape)) }, "average pool")
    }

    @Test(arguments: [(false, 0.0), (true, 0.0), (true, 0.15)])
    func crossEntropy(_ weighted: Bool, _ smoothing: Double) {
        var rng = SeededGenerator(seed: 25)
        let rows = 4, classes = 5
        let logits = rng.values(rows * classes, scale: 3)
        let labels: [Int32] = [0, 4, 2, 2]
        let weights = weighted ? rng.values(classes).map { abs($0) + 0.5 } : nil
        let analytic = Reference.crossEntropy(
            logits: logits, labels: labels, classes: classes, weights: weights, smoothing: smoothing
        ).grad
        let numeric = Self.numericalGradient(logits) {
            Reference.crossEntropy(logits: $0, labels: labels, classes: classes, weights: weights, smoothing: smoothing).loss
        }
        Self.expectGradient(analytic, numeric, "cross-entropy")
    }

    /// ReLU, dropout and bias are piecewise linear; their backward rules (mask, same mask, sum)
    /// are checked against differences of their forward definitions here.
    @Test func piecewiseLinearOps() {
        var rng = SeededGenerator(seed: 26)
        let x = rng.values(50).map { abs($0) < 0.01 ? 0.5 : $0 }, r = rng.values(50)
        Self.expectGradient(
            x.indices.map { x[$0] > 0 ? r[$0] : 0 },
            Self.numericalGradient(x) { Self.dot(r, $0.map { max($0, 0) }) }, "relu")
        let p: Float = 0.3, scale = Double(1 / (1 - p))
        let mask = x.indices.map { Philox.uniform(seed: 3, step: 4, index: $0) >= p ? scale : 0 }
        Self.expectGradient(
            x.indices.map { mask[$0] * r[$0] },
            Self.numericalGradient(x) { v in Self.dot(r, v.indices.map { v[$0] * mask[$0] }) }, "dropout")
        // bias over [N=5, C=10]: dL/db_c = sum_n r[n, c]
        let b = rng.values(10)
        let analytic = (0..<10).map { c in (0..<5).reduce(0.0) { $0 + r[$1 * 10 + c] } }
        Self.expectGradient(
            analytic, Self.numericalGradient(b) { b in Self.dot(r, x.indices.map { x[$0] + b[$0 % 10] }) }, "bias")
    }
}
