import FacemineDevice
import FacemineRandom
import Testing

@Suite struct OptimizerTests {
    static let sgdCases: [SGDSettings] = [
        SGDSettings(learningRate: 0.1),
        {
            var s = SGDSettings(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3); s.gradientScale = 0.25; return s
        }(),
        SGDSettings(learningRate: 0.05, momentum: 0.9),
        SGDSettings(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4),
        SGDSettings(learningRate: 0.01, momentum: 0.8, dampening: 0.3, weightDecay: 1e-2),
    ]

    static let adamCases: [AdamSettings] = [
        AdamSettings(learningRate: 1e-3),
        AdamSettings(learningRate: 1e-2, beta1: 0.8, beta2: 0.99, weightDecay: 1e-2),
        AdamSettings(learningRate: 1e-2, weightDecay: 0.05, decoupledWeightDecay: true),
        {
            var s = AdamSettings(learningRate: 1e-2, weightDecay: 1e-2); s.gradientScale = 0.3; return s
        }(),
    ]

    /// Three steps, each with a new gradient, so the momentum and moment state is exercised.
    @Test(arguments: BackendUnderTest.all, sgdCases)
    func sgdFollowsTorchOptim(_ target: BackendUnderTest, _ s: SGDSettings) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: 11)
        let count = 20_011
        var p = rng.values(count), buffer = [Double](repeating: 0, count: count)
        let tp = try backend.makeTensor([count], values: p.floats)
        let tb = try backend.makeTensor([count]), tg = try backend.makeTensor([count])
        for step in 1...3 {
            let g = rng.values(count)
            backend.upload(g.floats, to: tg)
            backend.sgdStep(parameter: tp, gradient: tg, momentumBuffer: tb, settings: s, step: step)
            (p, buffer) = Reference.sgd(p, g, buffer: buffer, s: s, step: step)
        }
        expectClose(try backend.floats(tp), p, tolerance: 1e-6, "SGD parameters")
        if s.momentum != 0 { expectClose(try backend.floats(tb), buffer, tolerance: 1e-6, "SGD momentum buffer") }
    }

    @Test(arguments: BackendUnderTest.all, adamCases)
    func adamFollowsTorchOptim(_ target: BackendUnderTest, _ s: AdamSettings) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: 12)
        let count = 20_011
        var p = rng.values(count), m = [Double](repeating: 0, count: count), v = m
        let tp = try backend.makeTensor([count], values: p.floats)
        let tm = try backend.makeTensor([count]), tv = try backend.makeTensor([count]), tg = try backend.makeTensor([count])
        for step in 1...3 {
            let g = rng.values(count)
            backend.upload(g.floats, to: tg)
            backend.adamStep(parameter: tp, gradient: tg, firstMoment: tm, secondMoment: tv, settings: s, step: step)
            (p, m, v) = Reference.adam(p, g, m: m, v: v, s: s, step: step)
        }
        expectClose(try backend.floats(tp), p, tolerance: 1e-6, "Adam parameters")
        expectClose(try backend.floats(tm), m, tolerance: 1e-5, "Adam first moment")
        expectClose(try backend.floats(tv), v, tolerance: 1e-5, "Adam second moment")
    }
}

extension Backend {
    func upload(_ values: [Float], to tensor: Tensor) {
        values.withUnsafeBufferPointer { upload($0, to: tensor) }
    }
}
