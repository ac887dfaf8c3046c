import ArgumentParser
import CBLAS
import FacemineCPU
import FacemineDevice
import Foundation

/// Times the CPU backend's ops on the layer shapes of MyCNN and ResNet-18 next to raw BLAS SGEMM
/// on the equivalent GEMM, and prints Markdown tables for docs/BENCHMARKS.md.
/// Run it from a release build: `swift run -c release facemine-opbench`.
@main
struct OpBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facemine-opbench",
        abstract: "Benchmark CPU backend ops against raw BLAS SGEMM on MyCNN and ResNet-18 layer shapes.")

    @Option(help: "Batch size of every shape.") var batch = 64
    @Option(help: "Measured repeats per op (the median is reported).") var repeats = 5
    @Option(help: "Threads (default: FACEMINE_THREADS or all cores).") var threads: Int?
    @Option(help: "Only shapes whose model name contains this text.") var model: String?

    func run() throws {
        let backend = CPUBackend(threads: threads ?? CPUBackend.defaultThreadCount)
        print("# facemine op benchmark")
        print("\(backend.deviceDescription); batch \(batch); median of \(repeats) after 2 warm-up runs\n")
        let shapes = LayerShapes(batch: batch)
        try benchmarkConvolutions(shapes.convs.filter(selected), backend)
        try benchmarkLinears(shapes.linears.filter(selected), backend)
        try benchmarkBatchNorms(shapes.batchNorms.filter { selected($0.model) }, backend)
    }

    func selected(_ conv: LayerShapes.Conv) -> Bool { selected(conv.model) }
    func selected(_ linear: LayerShapes.Linear) -> Bool { selected(linear.model) }
    func selected(_ name: String) -> Bool { model.map { name.localizedCaseInsensitiveContains($0) } ?? true }

    func benchmarkConvolutions(_ convs: [LayerShapes.Conv], _ backend: CPUBackend) throws {
        print("## Convolution: forward + backward (grad input + grad weight) vs SGEMM\n")
        print("GEMM-equivalent shape M x N x K = out channels x (batch x output pixels) x (in channels x k x k).")
        print("`fwd+bwd` counts 3 GEMM-equivalents of FLOPs; `SGEMM` runs the same M x N x K product through BLAS.\n")
        print("| model | layer | M x N x K | algorithm | fwd ms | bwd ms | fwd+bwd GFLOP/s | SGEMM GFLOP/s | ratio |")
        print("|---|---|---|---|---:|---:|---:|---:|---:|")
        for conv in convs {
            let g = conv.geometry
            let input = try random(backend, g.inputShape), weight = try random(backend, g.weightShape)
            let output = try backend.makeTensor(g.outputShape), gradOutput = try random(backend, g.outputShape)
            let gradInput = try backend.makeTensor(g.inputShape), gradWeight = try backend.makeTensor(g.weightShape)
            let sgemm = try sgemmGFLOPs(m: g.gemmM, n: g.gemmN, k: g.gemmK, backend)
            // Short reductions are timed with both algorithms: that is how the threshold was chosen.
            let algorithms: [ConvAlgorithm] = g.gemmK <= 4 * ConvAlgorithm.directMaximumReduction ? [.direct, .im2col] : [.im2col]
            for algorithm in algorithms {
                let forward = medianSeconds(repeats: repeats) {
                    backend.conv2dForward(g, input: input, weight: weight, bias: nil, output: output, algorithm: algorithm)
                }
                // The first layer of a network needs no input gradient; every other layer does.
                let needsInputGradient = g.inChannels > 1
                let backward = medianSeconds(repeats: repeats) {
                    backend.conv2dBackward(g, input: input, weight: weight, gradOutput: gradOutput,
                                           gradInput: needsInputGradient ? gradInput : nil, gradWeight: gradWeight,
                                           gradBias: nil, algorithm: algorithm)
                }
                let passes = needsInputGradient ? 3.0 : 2.0
                let rate = passes * g.flops / (forward + backward) / 1e9
                let chosen = ConvAlgorithm(g) == algorithm ? " (used)" : ""
                print("| \(conv.model) | \(conv.name) | \(g.gemmM) x \(g.gemmN) x \(g.gemmK) | \(algorithm)\(chosen) | "
                      + "\(fixed(forward * 1e3)) | \(fixed(backward * 1e3)) | \(fixed(rate, 1)) | \(fixed(sgemm, 1)) | \(fixed(rate / sgemm, 2)) |")
            }
        }
        print("\nFirst layers (1 input channel) compute no input gradient, so their fwd+bwd counts 2 GEMM-equivalents.\n")
    }

    func benchmarkLinears(_ linears: [LayerShapes.Linear], _ backend: CPUBackend) throws {
        print("## Linear layers: forward + backward through the backend's GEMM\n")
        print("| model | layer | fwd+bwd ms | GFLOP/s |")
        print("|---|---|---:|---:|")
        for l in linears {
            let x = try random(backend, [l.batch, l.inFeatures]), w = try random(backend, [l.outFeatures, l.inFeatures])
            let y = try backend.makeTensor([l.batch, l.outFeatures]), dx = try backend.makeTensor([l.batch, l.inFeatures])
            let dw = try backend.makeTensor([l.outFeatures, l.inFeatures])
            let seconds = medianSeconds(repeats: repeats) {
                // y = x W^T; dx = dy W; dW = dy^T x (dy stands in as y: same shape, same cost)
                backend.gemm(GEMM(m: l.batch, n: l.outFeatures, k: l.inFeatures, transposeB: true), a: x, b: w, c: y)
                backend.gemm(GEMM(m: l.batch, n: l.inFeatures, k: l.outFeatures), a: y, b: w, c: dx)
                backend.gemm(GEMM(m: l.outFeatures, n: l.inFeatures, k: l.batch, transposeA: true), a: y, b: x, c: dw)
            }
            let flops = 3 * 2 * Double(l.batch * l.inFeatures * l.outFeatures)
            print("| \(l.model) | \(l.name) | \(fixed(seconds * 1e3, 3)) | \(fixed(flops / seconds / 1e9, 1)) |")
        }
        print("")
    }

    func benchmarkBatchNorms(_ norms: [(model: String, shape: [Int])], _ backend: CPUBackend) throws {
        print("## Batch norm (training forward, backward): memory-bound, so GB/s\n")
        print("Bytes counted: forward reads x twice for the statistics and once to normalise, writes y; backward reads x and dy twice, writes dx.\n")
        print("| model | shape | fwd ms | fwd GB/s | bwd ms | bwd GB/s |")
        print("|---|---|---:|---:|---:|---:|")
        for (model, shape) in norms {
            let c = shape[1]
            let x = try random(backend, shape), y = try backend.makeTensor(shape), dx = try backend.makeTensor(shape)
            let gamma = try random(backend, [c]), beta = try random(backend, [c])
            let rm = try backend.makeTensor([c]), rv = try backend.makeTensor([c])
            let mean = try backend.makeTensor([c]), invStd = try backend.makeTensor([c])
            let dg = try backend.makeTensor([c]), db = try backend.makeTensor([c])
            let forward = medianSeconds(repeats: repeats) {
                backend.batchNormTrainingForward(x, gamma: gamma, beta: beta, runningMean: rm, runningVariance: rv,
                                                 settings: BatchNormSettings(), output: y, savedMean: mean, savedInvStd: invStd)
            }
            let backward = medianSeconds(repeats: repeats) {
                backend.batchNormBackward(gradOutput: y, input: x, gamma: gamma, savedMean: mean, savedInvStd: invStd,
                                          gradInput: dx, gradGamma: dg, gradBeta: db)
            }
            let bytes = Double(Tensor.elementCount(shape) * 4)
            print("| \(model) | \(shape.map(String.init).joined(separator: "x")) | \(fixed(forward * 1e3, 3)) | "
                  + "\(fixed(4 * bytes / forward / 1e9, 1)) | \(fixed(backward * 1e3, 3)) | \(fixed(5 * bytes / backward / 1e9, 1)) |")
        }
        print("")
    }

    /// Raw BLAS on M x N x K (row-major, no transposes), the yardstick for every conv shape.
    func sgemmGFLOPs(m: Int, n: Int, k: Int, _ backend: CPUBackend) throws -> Double {
        let a = try random(backend, [m, k]), b = try random(backend, [k, n]), c = try backend.makeTensor([m, n])
        let seconds = medianSeconds(repeats: repeats) {
            backend.gemm(GEMM(m: m, n: n, k: k), a: a, b: b, c: c)
        }
        return 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
    }

    func random(_ backend: CPUBackend, _ shape: [Int]) throws -> Tensor {
        var state: UInt32 = 12345
        let values = (0..<Tensor.elementCount(shape)).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / 8_388_608 - 1
        }
        return try backend.makeTensor(shape, values: values)
    }

    func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
}
