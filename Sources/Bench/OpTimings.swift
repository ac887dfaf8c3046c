import FacemineDevice

/// Per-op timings on the layer shapes of MyCNN and ResNet-18: each convolution's equivalent
/// GEMM, its forward pass, its backward pass (and the weight gradient alone, so the input
/// gradient's share shows), and batch norm's two passes, alone and as a ResNet block's end
/// with the residual add and ReLU fused into them or run as ops of their own.
struct OpTimings {
    let backend: any Backend
    let label: String
    let options: BenchOptions
    let roofline: Roofline
    let progress: (String) -> Void

    func run() throws -> [BenchEntry] {
        let shapes = LayerShapes(batch: options.opBatch)
        var entries: [BenchEntry] = []
        var seenGEMMs = Set<[Int]>()
        for conv in shapes.convs where options.selects(conv.model) {
            let g = conv.geometry
            let layer = "\(conv.model) \(conv.name)"
            progress("\(label): \(layer)")
            if seenGEMMs.insert([g.gemmM, g.gemmN, g.gemmK]).inserted {
                entries.append(try gemm(m: g.gemmM, n: g.gemmN, k: g.gemmK, name: "\(g.gemmM)x\(g.gemmN)x\(g.gemmK) (\(layer))"))
            }
            entries += try convolution(g, layer: layer)
        }
        for (model, shape) in shapes.batchNorms where options.selects(model) {
            progress("\(label): batch norm \(shape)")
            entries += try batchNorm(shape, name: "\(model) \(shape.dropFirst().map(String.init).joined(separator: "x"))")
        }
        return entries
    }

    private func tensor(_ shape: [Int], seed: UInt32) throws -> Tensor {
        try backend.makeTensor(shape, values: benchValues(Tensor.elementCount(shape), seed: UInt64(seed)))
    }

    /// An op's rates: GFLOP/s and % of peak where it does FLOPs, GB/s from the bytes it moves,
    /// and for both its roofline figures.
    private func entry(_ group: BenchEntry.Group, _ name: String, seconds: Double, flops: Double? = nil, bytes: Double)
        -> BenchEntry
    {
        var e = BenchEntry(backend: label, group: group, name: name, batch: options.opBatch, seconds: seconds)
        guard let flops else {
            e.gigabytesPerSecond = bytes / seconds / 1e9
            return e
        }
        e.gflops = flops / seconds / 1e9
        if let peak = roofline.peakGFLOPS { e.percentOfPeak = 100 * e.gflops! / peak }
        roofline.annotate(&e, flops: flops, bytes: bytes)
        return e
    }

    func gemm(m: Int, n: Int, k: Int, name: String) throws -> BenchEntry {
        let a = try tensor([m, k], seed: 1), b = try tensor([k, n], seed: 2), c = try backend.makeTensor([m, n])
        let op = GEMM(m: m, n: n, k: k)
        let seconds = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
            backend.gemm(op, a: a, b: b, c: c)
        }
        return entry(.gemm, name, seconds: seconds, flops: op.flops, bytes: Roofline.gemmBytes(m: m, n: n, k: k))
    }

    func convolution(_ g: ConvGeometry, layer: String) throws -> [BenchEntry] {
        let x = try tensor(g.inputShape, seed: 3), w = try tensor(g.weightShape, seed: 4)
        let y = try backend.makeTensor(g.outputShape), dy = try tensor(g.outputShape, seed: 5)
        let dx = try backend.makeTensor(g.inputShape), dw = try backend.makeTensor(g.weightShape)
        let forward = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
            backend.conv2dForward(g, input: x, weight: w, bias: nil, output: y)
        }
        let backward = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
            backend.conv2dBackward(g, input: x, weight: w, gradOutput: dy, gradInput: dx, gradWeight: dw, gradBias: nil)
        }
        let weightOnly = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
            backend.conv2dBackward(g, input: x, weight: w, gradOutput: dy, gradInput: nil, gradWeight: dw, gradBias: nil)
        }
        var entries = [
            entry(.conv, "forward \(layer)", seconds: forward, flops: g.usefulFlops, bytes: g.forwardBytes),
            entry(.conv, "grad weight \(layer)", seconds: weightOnly, flops: g.usefulFlops, bytes: g.weightGradientBytes),
            entry(.conv, "grad input + weight \(layer)", seconds: backward, flops: 2 * g.usefulFlops, bytes: g.backwardBytes),
        ]
        // The input gradient's own time is the difference; too small to resolve on tiny shapes.
        if backward > weightOnly * 1.05 {
            entries.append(
                entry(
                    .conv, "grad input \(layer)", seconds: backward - weightOnly, flops: g.usefulFlops,
                    bytes: g.inputGradientBytes))
        }
        return entries
    }

    /// Bytes moved: the forward pass reads x twice for the statistics, once to normalise, and
    /// writes y (4 tensors' worth); the backward pass reads dy and x twice and writes dx (5).
    func batchNorm(_ shape: [Int], name: String) throws -> [BenchEntry] {
        let c = shape[1]
        let x = try tensor(shape, seed: 6), y = try backend.makeTensor(shape), dx = try backend.makeTensor(shape)
        let gamma = try tensor([c], seed: 7), beta = try tensor([c], seed: 8)
        let rm = try backend.makeTensor([c]), rv = try backend.makeTensor([c])
        let mean = try backend.makeTensor([c]), invStd = try backend.makeTensor([c])
        let dg = try backend.makeTensor([c]), db = try backend.makeTensor([c])
        let forward = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
            backend.batchNormTrainingForward(
                x, gamma: gamma, beta: beta, runningMean: rm, runningVariance: rv,
                settings: BatchNormSettings(), output: y, savedMean: mean, savedInvStd: invStd)
        }
        let backward = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
            backend.batchNormBackward(
                gradOutput: y, input: x, gamma: gamma, savedMean: mean, savedInvStd: invStd,
                gradInput: dx, gradGamma: dg, gradBeta: db)
        }
        // A ResNet block's end, forward and backward: batch norm, the shortcut added, a ReLU,
        // as one fused op each way (what the models run) and as the separate ops it replaces.
        let shortcut = try tensor(shape, seed: 9), dy = try tensor(shape, seed: 10)
        let fused = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
            backend.batchNormTrainingForward(
                x, gamma: gamma, beta: beta, runningMean: rm, runningVariance: rv, settings: BatchNormSettings(),
                output: y, savedMean: mean, savedInvStd: invStd, epilogue: BatchNormEpilogue(residual: shortcut, relu: true))
            backend.batchNormBackward(
                gradOutput: dy, input: x, gamma: gamma, savedMean: mean, savedInvStd: invStd,
                gradInput: dx, gradGamma: dg, gradBeta: db, reluOutput: y)
        }
        let separate = try medianSeconds(backend, warmUp: options.warmUp, repeats: options.repeats) {
            backend.batchNormTrainingForward(
                x, gamma: gamma, beta: beta, runningMean: rm, runningVariance: rv,
                settings: BatchNormSettings(), output: y, savedMean: mean, savedInvStd: invStd)
            backend.add(y, shortcut, output: y)
            backend.reluForward(y, output: y)
            backend.reluBackward(gradOutput: dy, output: y, gradInput: dy)
            backend.batchNormBackward(
                gradOutput: dy, input: x, gamma: gamma, savedMean: mean, savedInvStd: invStd,
                gradInput: dx, gradGamma: dg, gradBeta: db)
        }
        let bytes = Double(Tensor.elementCount(shape) * 4)
        // Fused: the forward pass also reads the shortcut (5), the backward pass reads y and
        // writes the masked dy (7); separately, add (3) and ReLU (2) and its gradient (3) more.
        return [
            entry(.batchnorm, "forward \(name)", seconds: forward, bytes: 4 * bytes),
            entry(.batchnorm, "backward \(name)", seconds: backward, bytes: 5 * bytes),
            entry(.batchnorm, "block end fused \(name)", seconds: fused, bytes: 12 * bytes),
            entry(.batchnorm, "block end separate \(name)", seconds: separate, bytes: 17 * bytes),
        ]
    }
}
