import FacemineBackends
import FacemineData
import FacemineDevice
import FacemineNN
import FacemineRandom
import FacemineTraining
import Foundation
import Testing

/// The OpenCL backend against the CPU backend on identical inputs: every op of a training step,
/// then whole training runs. The conformance suite already checks each backend against Double
/// references; this checks they agree with *each other* on the layer shapes the models use.
@Suite struct CrossBackendTests {
    let cpu: any Backend = try! BackendChoice.cpu.makeBackend(threads: 2).backend
    let gpu: any Backend = try! BackendChoice.opencl.makeBackend().backend

    /// Deterministic values in [-scale, scale).
    static func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return generator.signedFloats(count, scale: scale)
    }

    /// Runs `op` on both backends with the same inputs; returns each output as (cpu, opencl).
    func both(
        _ inputs: [(shape: [Int], values: [Float])], outputs: [[Int]],
        _ op: (any Backend, [Tensor], [Tensor]) throws -> Void
    ) throws -> [([Float], [Float])] {
        func run(_ b: any Backend) throws -> [[Float]] {
            let ins = try inputs.map { try b.makeTensor($0.shape, values: $0.values) }
            let outs = try outputs.map { try b.makeTensor($0) }
            try op(b, ins, outs)
            return try outs.map { try b.floats($0) }
        }
        return zip(try run(cpu), try run(gpu)).map { ($0, $1) }
    }

    func expectAgree(
        _ pair: ([Float], [Float]), tolerance: Float = 2e-5, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let (a, b) = pair
        let scale = max(a.map(abs).max() ?? 0, 1e-20)
        let worst = zip(a, b).map { abs($0 - $1) / (abs($0) + scale) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): CPU and OpenCL differ by \(worst) (relative)", sourceLocation: sourceLocation)
    }

    static let layers: [ConvGeometry] = [
        ConvGeometry(batch: 4, inChannels: 1, height: 48, width: 48, outChannels: 32, kernel: 3, padding: 1),  // MyCNN conv1
        ConvGeometry(batch: 4, inChannels: 1, height: 48, width: 48, outChannels: 64, kernel: 7, stride: 2, padding: 3),  // imagenet stem
        ConvGeometry(batch: 2, inChannels: 64, height: 12, width: 12, outChannels: 128, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 2, inChannels: 64, height: 12, width: 12, outChannels: 128, kernel: 1, stride: 2),  // downsample
        ConvGeometry(batch: 3, inChannels: 128, height: 6, width: 6, outChannels: 128, kernel: 3, padding: 1),
        ConvGeometry(batch: 8, inChannels: 64, height: 48, width: 48, outChannels: 64, kernel: 3, padding: 1),  // small-stem layer1
    ]

    @Test(arguments: layers)
    func convolutionAgrees(_ g: ConvGeometry) throws {
        let x = Self.values(Tensor.elementCount(g.inputShape), seed: 1)
        let w = Self.values(Tensor.elementCount(g.weightShape), seed: 2, scale: 0.2)
        let bias = Self.values(g.outChannels, seed: 3)
        let dy = Self.values(Tensor.elementCount(g.outputShape), seed: 4)
        let results = try both(
            [(g.inputShape, x), (g.weightShape, w), ([g.outChannels], bias), (g.outputShape, dy)],
            outputs: [g.outputShape, g.inputShape, g.weightShape, [g.outChannels]]
        ) { b, i, o in
            b.conv2dForward(g, input: i[0], weight: i[1], bias: i[2], output: o[0])
            b.conv2dBackward(g, input: i[0], weight: i[1], gradOutput: i[3], gradInput: o[1], gradWeight: o[2], gradBias: o[3])
        }
        for (pair, name) in zip(results, ["output", "grad input", "grad weight", "grad bias"]) {
            expectAgree(pair, tolerance: 1e-4, "\(g) \(name)")
        }
    }

    @Test func normalisationPoolingActivationsAndDropoutAgree() throws {
        let shape = [8, 16, 12, 12], n = 8 * 16 * 144
        let x = Self.values(n, seed: 5, scale: 3), dy = Self.values(n, seed: 6)
        let gamma = Self.values(16, seed: 7), beta = Self.values(16, seed: 8)
        let pool = PoolGeometry(batch: 8, channels: 16, height: 12, width: 12, kernel: 3, stride: 2, padding: 1)
        let results = try both(
            [(shape, x), (shape, dy), ([16], gamma), ([16], beta), (pool.outputShape, Self.values(8 * 16 * 36, seed: 9))],
            outputs: [shape, [16], [16], shape, [16], [16], pool.outputShape, shape, shape, shape, [8, 16]]
        ) { b, i, o in
            let mean = try b.makeTensor([16]), invStd = try b.makeTensor([16])
            b.fill(o[2], with: 1)
            b.batchNormTrainingForward(
                i[0], gamma: i[2], beta: i[3], runningMean: o[1], runningVariance: o[2],
                settings: BatchNormSettings(), output: o[0], savedMean: mean, savedInvStd: invStd)
            b.batchNormBackward(
                gradOutput: i[1], input: i[0], gamma: i[2], savedMean: mean, savedInvStd: invStd,
                gradInput: o[3], gradGamma: o[4], gradBeta: o[5])
            let indices = try b.makeTensor(pool.outputShape, dtype: .int32)
            b.maxPoolForward(pool, input: i[0], output: o[6], indices: indices)
            b.maxPoolBackward(pool, gradOutput: i[4], indices: indices, gradInput: o[7])
            b.reluForward(i[0], output: o[8])
            b.reluBackward(gradOutput: i[1], output: o[8], gradInput: o[8])
            b.dropoutForward(i[0], output: o[9], probability: 0.3, seed: 42, step: 7)
            b.globalAvgPoolForward(i[0], output: o[10])
        }
        let names = [
            "bn output", "running mean", "running variance", "bn grad input", "grad gamma", "grad beta",
            "max-pool output", "max-pool grad input", "relu grad", "dropout", "global average",
        ]
        for (pair, name) in zip(results, names) { expectAgree(pair, tolerance: 1e-4, name) }
        #expect(results[6].0 == results[6].1, "max pooling picks the same values")
        #expect(results[9].0 == results[9].1, "dropout draws the same Philox mask and scales identically")
    }

    /// Batch norm with its epilogue fused (the shortcut added, then a ReLU), forward in both
    /// modes and backward through the ReLU, on a ResNet block's shape.
    @Test func fusedBatchNormAgrees() throws {
        let shape = [4, 32, 12, 12], n = 4 * 32 * 144
        let x = Self.values(n, seed: 21, scale: 3), r = Self.values(n, seed: 22, scale: 2), dy = Self.values(n, seed: 23)
        let gamma = Self.values(32, seed: 24), beta = Self.values(32, seed: 25)
        let results = try both(
            [(shape, x), (shape, r), (shape, dy), ([32], gamma), ([32], beta)],
            outputs: [shape, shape, shape, [32], [32], shape, [32], [32]]
        ) { b, i, o in
            let mean = try b.makeTensor([32]), invStd = try b.makeTensor([32])
            b.fill(o[7], with: 1)
            let epilogue = BatchNormEpilogue(residual: i[1], relu: true)
            b.batchNormTrainingForward(
                i[0], gamma: i[3], beta: i[4], runningMean: o[6], runningVariance: o[7], settings: BatchNormSettings(),
                output: o[0], savedMean: mean, savedInvStd: invStd, epilogue: epilogue)
            b.copy(i[2], to: o[1])
            b.batchNormBackward(
                gradOutput: o[1], input: i[0], gamma: i[3], savedMean: mean, savedInvStd: invStd,
                gradInput: o[2], gradGamma: o[3], gradBeta: o[4], reluOutput: o[0])
            b.batchNormInferenceForward(
                i[0], gamma: i[3], beta: i[4], runningMean: o[6], runningVariance: o[7], epsilon: 1e-5,
                output: o[5], epilogue: epilogue)
        }
        let names = [
            "fused output", "gradient at the sum", "fused grad input", "grad gamma", "grad beta", "fused inference",
            "running mean", "running variance",
        ]
        for (pair, name) in zip(results, names) { expectAgree(pair, tolerance: 1e-4, name) }
    }

    @Test func lossAndOptimizersAgree() throws {
        let logits = Self.values(32 * 8, seed: 10, scale: 4)
        let labels = (0..<32).map { Int32($0 * 5 % 8) }
        let p = Self.values(1000, seed: 11), g = Self.values(1000, seed: 12)
        func run(_ b: any Backend) throws -> [[Float]] {
            let z = try b.makeTensor([32, 8], values: logits), y = try b.makeTensor([32], labels: labels)
            let w = try b.makeTensor([8], values: [1, 2, 0.5, 1, 3, 1, 1, 0.25])
            let loss = try b.makeTensor([1]), dz = try b.makeTensor([32, 8])
            b.softmaxCrossEntropy(logits: z, labels: y, classWeights: w, labelSmoothing: 0.1, loss: loss, gradLogits: dz)
            let param = try b.makeTensor([1000], values: p), grad = try b.makeTensor([1000], values: g)
            let m = try b.makeTensor([1000]), v = try b.makeTensor([1000])
            for step in 1...3 {
                b.adamStep(
                    parameter: param, gradient: grad, firstMoment: m, secondMoment: v,
                    settings: AdamSettings(learningRate: 0.01, weightDecay: 0.01, decoupledWeightDecay: true), step: step)
            }
            let sgd = try b.makeTensor([1000], values: p), momentum = try b.makeTensor([1000])
            var settings = SGDSettings(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4)
            settings.gradientScale = 0.5
            for step in 1...3 {
                b.sgdStep(parameter: sgd, gradient: grad, momentumBuffer: momentum, settings: settings, step: step)
            }
            return [try b.floats(loss), try b.floats(dz), try b.floats(param), try b.floats(sgd)]
        }
        for (pair, name) in zip(zip(try run(cpu), try run(gpu)), ["loss", "grad logits", "adamw", "sgd nesterov"]) {
            expectAgree(pair, tolerance: 1e-5, name)
        }
    }

    /// 20 steps of training from the same seed on both backends give the same losses.
    ///
    /// "The same" needs a yardstick: sums in another order give other float roundings, and a
    /// batch-norm ResNet at initialisation amplifies them (PyTorch's own float32 gradients of the
    /// small-stem ResNet differ from float64 by 8e-4; facemine's CPU and OpenCL backends are
    /// within that, see benchmarks/pytorch/parity.py). So the bar is the CPU backend against
    /// itself with other thread counts (other summation orders): OpenCL must stay as close to
    /// the two-thread CPU run as the CPU backend's own one- and three-thread runs do, or within
    /// the drift one flipped decision causes (5e-3). MyCNN (Adam) agrees to 1e-5 for the first
    /// steps; then a choice that a rounding difference can flip (a ReLU or max-pool at its
    /// threshold) makes some orders drift, and whether one flips within 20 steps depends on the
    /// faces: on an earlier version of the synthetic faces the CPU backend's three-thread run
    /// differed from its two-thread run by 2.5e-3 by step 20 and OpenCL by 2.8e-3; on today's
    /// the CPU runs stay within 3e-5 and OpenCL drifts 1.8e-4. The ResNet (SGD; Adam would turn
    /// gradients that are pure rounding noise into full-size steps) agrees to 1e-4 for the first
    /// steps, then rounding differences grow about fivefold per step on *any* two summation
    /// orders: 8-11% by step 20 between the CPU backend's own runs, 7% between OpenCL and CPU.
    @Test(arguments: [
        (Architecture.mycnn, ResNetStem.small, 16, OptimizerKind.adam),
        (Architecture.resnet18, ResNetStem.imagenet, 16, OptimizerKind.sgd),
    ])
    func twentyTrainingStepsGiveTheSameLosses(
        _ model: Architecture, _ stem: ResNetStem, _ batch: Int,
        _ optimizer: OptimizerKind
    ) throws {
        var c = TrainingConfiguration()
        c.model = model
        c.stem = stem
        c.optimizer = optimizer
        if optimizer == .sgd { c.learningRate = 0.002 }
        c.epochs = 1
        c.batchSize = batch
        c.augmentation = .none
        c.dropout = 0.3
        c.warmupEpochs = 0
        c.schedule = .constant
        let faces = SyntheticFaces(count: 20 * batch, seed: 3).generate(threads: 2)
        func losses(_ backend: any Backend) throws -> [Double] {
            let trainer = try Trainer(
                configuration: c, backend: backend, dataset: faces,
                trainIndices: Array(0..<faces.count), validationIndices: [])
            var running: [Double] = []
            _ = try trainer.run { event in
                if case .batch(_, _, _, let loss, _, _) = event { running.append(loss) }
            }
            // The running mean of the epoch back into each step's own loss.
            return running.indices.map { i in i == 0 ? running[0] : running[i] * Double(i + 1) - running[i - 1] * Double(i) }
        }
        let reference = try losses(cpu)
        let otherThreads = try [1, 3].map { try losses(try BackendChoice.cpu.makeBackend(threads: $0).backend) }
        let opencl = try losses(gpu)
        #expect(reference.count == 20 && opencl.count == 20)
        var worstCPU = 0.0, worstOpenCL = 0.0
        for i in reference.indices {
            for other in otherThreads { worstCPU = max(worstCPU, abs(other[i] - reference[i]) / reference[i]) }
            worstOpenCL = max(worstOpenCL, abs(opencl[i] - reference[i]) / reference[i])
        }
        print(
            "\(model) 20 steps: CPU 1 or 3 vs 2 threads differ by \(worstCPU), OpenCL vs CPU by \(worstOpenCL) (relative, worst step)"
        )
        #expect(
            worstOpenCL <= max(2 * worstCPU, 5e-3),
            "OpenCL vs CPU \(worstOpenCL) against CPU vs CPU \(worstCPU): CPU \(reference) OpenCL \(opencl)")
        // Before rounding differences have been amplified, the backends agree to five digits.
        for i in 0..<3 {
            #expect(
                abs(opencl[i] - reference[i]) <= 1e-4 * reference[i], "step \(i + 1): CPU \(reference[i]) vs OpenCL \(opencl[i])")
        }
    }
}
