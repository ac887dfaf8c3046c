import FacemineDevice
import FacemineRandom
import Testing

@Suite struct BatchNormTests {
    static let shapes: [[Int]] = [[2, 3, 5, 4], [1, 4, 3, 3], [4, 2, 1, 1], [3, 5, 7, 7], [8, 6]]

    @Test(arguments: BackendUnderTest.all, shapes)
    func trainingForwardBackwardAndRunningStatistics(_ target: BackendUnderTest, _ shape: [Int]) throws {
        let backend = try target.make()
        let c = shape[1], count = Tensor.elementCount(shape)
        var rng = SeededGenerator(seed: UInt64(count))
        // An offset mean makes a naive one-pass variance lose precision; the ops must not.
        let x = rng.values(count, scale: 2).map { $0 + 3 }
        let gamma = rng.values(c).map { $0 + 1.5 }, beta = rng.values(c)
        let runningMean = rng.values(c), runningVariance = rng.values(c).map { $0 + 2 }
        let dy = rng.values(count)
        let settings = BatchNormSettings(momentum: 0.1, epsilon: 1e-5)

        let tx = try backend.makeTensor(shape, values: x.floats)
        let tg = try backend.makeTensor([c], values: gamma.floats), tb = try backend.makeTensor([c], values: beta.floats)
        let trm = try backend.makeTensor([c], values: runningMean.floats)
        let trv = try backend.makeTensor([c], values: runningVariance.floats)
        let ty = try backend.makeTensor(shape)
        let mean = try backend.makeTensor([c]), invStd = try backend.makeTensor([c])
        backend.batchNormTrainingForward(
            tx, gamma: tg, beta: tb, runningMean: trm, runningVariance: trv,
            settings: settings, output: ty, savedMean: mean, savedInvStd: invStd)
        let expected = Reference.batchNormTraining(
            x, shape: shape, gamma: gamma, beta: beta,
            runningMean: runningMean, runningVariance: runningVariance,
            momentum: 0.1, epsilon: 1e-5)
        expectClose(try backend.floats(ty), expected.output, "BN \(shape) output")
        // Running statistics follow PyTorch's rule to float precision.
        expectClose(try backend.floats(trm), expected.runningMean, tolerance: 1e-6, "BN \(shape) running mean")
        expectClose(try backend.floats(trv), expected.runningVariance, tolerance: 1e-6, "BN \(shape) running variance")
        expectClose(try backend.floats(mean), expected.mean, tolerance: 1e-6, "BN \(shape) saved mean")
        expectClose(try backend.floats(invStd), expected.invStd, tolerance: 1e-5, "BN \(shape) saved 1/std")

        let tdy = try backend.makeTensor(shape, values: dy.floats)
        let dx = try backend.makeTensor(shape), dgamma = try backend.makeTensor([c]), dbeta = try backend.makeTensor([c])
        backend.batchNormBackward(
            gradOutput: tdy, input: tx, gamma: tg, savedMean: mean, savedInvStd: invStd,
            gradInput: dx, gradGamma: dgamma, gradBeta: dbeta)
        let grads = Reference.batchNormBackward(x, shape: shape, gamma: gamma, gradOutput: dy, epsilon: 1e-5)
        expectClose(try backend.floats(dx), grads.input, tolerance: 2e-4, "BN \(shape) grad input")
        expectClose(try backend.floats(dgamma), grads.gamma, "BN \(shape) grad gamma")
        expectClose(try backend.floats(dbeta), grads.beta, "BN \(shape) grad beta")
    }

    @Test(arguments: BackendUnderTest.all)
    func inferenceUsesRunningStatistics(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        let shape = [3, 4, 5, 3], c = 4
        var rng = SeededGenerator(seed: 5)
        let x = rng.values(Tensor.elementCount(shape)), gamma = rng.values(c), beta = rng.values(c)
        let rm = rng.values(c), rv = rng.values(c).map { $0 + 1.5 }
        let y = try backend.makeTensor(shape)
        backend.batchNormInferenceForward(
            try backend.makeTensor(shape, values: x.floats), gamma: try backend.makeTensor([c], values: gamma.floats),
            beta: try backend.makeTensor([c], values: beta.floats), runningMean: try backend.makeTensor([c], values: rm.floats),
            runningVariance: try backend.makeTensor([c], values: rv.floats), epsilon: 1e-3, output: y)
        expectClose(
            try backend.floats(y),
            Reference.batchNormInference(
                x, shape: shape, gamma: gamma, beta: beta, runningMean: rm,
                runningVariance: rv, epsilon: 1e-3), "BN inference")
    }

    /// The epilogue a backend fuses into the normalisation: relu(batchNorm(x) + residual) in
    /// both modes, and the backward pass that first masks the gradient by the ReLU's output,
    /// leaving the masked gradient (what the residual receives) in `gradOutput`. Planes of 49
    /// and 81 values: the CPU backend masks small planes in a pass of its own, larger ones
    /// inside the channel's loop.
    @Test(arguments: BackendUnderTest.all, [false, true])
    func epilogueAddsTheResidualThenAppliesTheReLU(_ target: BackendUnderTest, residual: Bool) throws {
        for shape in [[3, 5, 7, 7], [2, 5, 9, 9]] { try checkEpilogue(target, residual: residual, shape: shape) }
    }

    func checkEpilogue(_ target: BackendUnderTest, residual: Bool, shape: [Int]) throws {
        let backend = try target.make()
        let c = shape[1], count = Tensor.elementCount(shape)
        var rng = SeededGenerator(seed: UInt64(count) + (residual ? 11 : 12))
        let x = rng.values(count, scale: 2), r = rng.values(count, scale: 2), dy = rng.values(count)
        let gamma = rng.values(c).map { $0 + 1 }, beta = rng.values(c)
        let runningMean = rng.values(c), runningVariance = rng.values(c).map { $0 + 2 }
        let tx = try backend.makeTensor(shape, values: x.floats), tr = try backend.makeTensor(shape, values: r.floats)
        let tg = try backend.makeTensor([c], values: gamma.floats), tb = try backend.makeTensor([c], values: beta.floats)
        let trm = try backend.makeTensor([c], values: runningMean.floats)
        let trv = try backend.makeTensor([c], values: runningVariance.floats)
        let mean = try backend.makeTensor([c]), invStd = try backend.makeTensor([c])
        let epilogue = BatchNormEpilogue(residual: residual ? tr : nil, relu: true)
        func finish(_ normalised: [Double]) -> [Double] {
            normalised.indices.map { max(normalised[$0] + (residual ? r[$0] : 0), 0) }
        }

        let y = try backend.makeTensor(shape)
        backend.batchNormTrainingForward(
            tx, gamma: tg, beta: tb, runningMean: trm, runningVariance: trv, settings: BatchNormSettings(),
            output: y, savedMean: mean, savedInvStd: invStd, epilogue: epilogue)
        let training = Reference.batchNormTraining(
            x, shape: shape, gamma: gamma, beta: beta, runningMean: runningMean, runningVariance: runningVariance,
            momentum: 0.1, epsilon: 1e-5)
        let expected = finish(training.output)
        let output = try backend.floats(y)
        expectClose(output, expected, "fused training output")
        #expect(output.contains(0) && output.contains { $0 > 0 }, "the ReLU clips some values and keeps others")

        let tdy = try backend.makeTensor(shape, values: dy.floats)
        let dx = try backend.makeTensor(shape), dgamma = try backend.makeTensor([c]), dbeta = try backend.makeTensor([c])
        backend.batchNormBackward(
            gradOutput: tdy, input: tx, gamma: tg, savedMean: mean, savedInvStd: invStd,
            gradInput: dx, gradGamma: dgamma, gradBeta: dbeta, reluOutput: y)
        let masked = dy.indices.map { output[$0] > 0 ? dy[$0] : 0 }
        expectClose(try backend.floats(tdy), masked, tolerance: 1e-6, "gradOutput masked in place by the ReLU's output")
        let grads = Reference.batchNormBackward(x, shape: shape, gamma: gamma, gradOutput: masked, epsilon: 1e-5)
        expectClose(try backend.floats(dx), grads.input, tolerance: 2e-4, "fused grad input")
        expectClose(try backend.floats(dgamma), grads.gamma, "fused grad gamma")
        expectClose(try backend.floats(dbeta), grads.beta, "fused grad beta")

        backend.batchNormInferenceForward(
            tx, gamma: tg, beta: tb, runningMean: trm, runningVariance: trv, epsilon: 1e-5, output: y, epilogue: epilogue)
        let inference = Reference.batchNormInference(
            x, shape: shape, gamma: gamma, beta: beta, runningMean: training.runningMean,
            runningVariance: training.runningVariance, epsilon: 1e-5)
        expectClose(try backend.floats(y), finish(inference), "fused inference output")
    }
}
