import ArgumentParser
import CBLAS
import FacemineBench
import FacemineCPU
import FacemineDevice
import FacemineRandom
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
    @Flag(help: "Time every convolution algorithm on each shape, not only the one the backend picks.") var all = false
    @Option(help: "Bytes of im2col matrix per chunk of images in the batched algorithm (tuning).") var chunkBytes: Int?
    @Flag(help: "Instead: time each convolution inside real training steps of the models.") var inModel = false

    func run() throws {
        let backend = CPUBackend(threads: threads ?? CPUBackend.defaultThreadCount)
        if let chunkBytes { backend.columnChunkBytes = chunkBytes }
        print("# facemine op benchmark")
        if inModel {
            print("\(backend.deviceDescription); batch \(batch); mean of \(repeats) training steps after 2 warm-up steps\n")
            return try benchmarkInModel(backend)
        }
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
        print(
            "`fwd+bwd` counts the useful multiply-adds of forward, grad input and grad weight (taps in the padding excluded); "
                + "`SGEMM` runs the im2col product M x N x K, padding included, through BLAS.\n")
        print("| model | layer | M x N x K | algorithm | fwd ms | bwd ms | fwd+bwd GFLOP/s | SGEMM GFLOP/s | ratio |")
        print("|---|---|---|---|---:|---:|---:|---:|---:|")
        // The yardsticks run first, in their own phase: OpenBLAS's worker threads spin on
        // sched_yield for about 0.1 s after each multithreaded call, which would steal a core
        // from whatever ran next. The pause lets them fall asleep before the backend is timed.
        let sgemmRates = convs.map { conv -> Double in
            let g = conv.geometry
            let sgemm = rawSGEMM(m: g.gemmM, n: g.gemmN, k: g.gemmK, threads: backend.threads)
            return g.flops / medianSeconds(repeats: repeats, sgemm.run) / 1e9
        }
        usleep(500_000)
        for (conv, sgemmRate) in zip(convs, sgemmRates) {
            let g = conv.geometry
            let input = try random(backend, g.inputShape), weight = try random(backend, g.weightShape)
            let output = try backend.makeTensor(g.outputShape), gradOutput = try random(backend, g.outputShape)
            let gradInput = try backend.makeTensor(g.inputShape), gradWeight = try backend.makeTensor(g.weightShape)
            // Every algorithm is timed with --all: that is how the thresholds were chosen.
            let chosenAlgorithm = ConvAlgorithm(g, threads: backend.threads)
            for algorithm in all ? ConvAlgorithm.allCases.filter({ $0.applies(to: g) }) : [chosenAlgorithm] {
                // The first layer of a network needs no input gradient; every other layer does.
                let needsInputGradient = g.inChannels > 1
                let forward = medianSeconds(repeats: repeats) {
                    backend.conv2dForward(g, input: input, weight: weight, bias: nil, output: output, algorithm: algorithm)
                }
                let backward = medianSeconds(repeats: repeats) {
                    backend.conv2dBackward(
                        g, input: input, weight: weight, gradOutput: gradOutput,
                        gradInput: needsInputGradient ? gradInput : nil, gradWeight: gradWeight,
                        gradBias: nil, algorithm: algorithm)
                }
                let passes = needsInputGradient ? 3.0 : 2.0
                let rate = passes * g.usefulFlops / (forward + backward) / 1e9
                let chosen = all && chosenAlgorithm == algorithm ? " (used)" : ""
                print(
                    "| \(conv.model) | \(conv.name) | \(g.gemmM) x \(g.gemmN) x \(g.gemmK) | \(algorithm)\(chosen) | "
                        + "\(fixed(forward * 1e3)) | \(fixed(backward * 1e3)) | \(fixed(rate, 1)) | \(fixed(sgemmRate, 1)) | \(fixed(rate / sgemmRate, 2)) |"
                )
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
        print(
            "Bytes counted: forward reads x twice for the statistics and once to normalise, writes y; backward reads x and dy twice, writes dx.\n"
        )
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
                backend.batchNormTrainingForward(
                    x, gamma: gamma, beta: beta, runningMean: rm, runningVariance: rv,
                    settings: BatchNormSettings(), output: y, savedMean: mean, savedInvStd: invStd)
            }
            let backward = medianSeconds(repeats: repeats) {
                backend.batchNormBackward(
                    gradOutput: y, input: x, gamma: gamma, savedMean: mean, savedInvStd: invStd,
                    gradInput: dx, gradGamma: dg, gradBeta: db)
            }
            let bytes = Double(Tensor.elementCount(shape) * 4)
            print(
                "| \(model) | \(shape.map(String.init).joined(separator: "x")) | \(fixed(forward * 1e3, 3)) | "
                    + "\(fixed(4 * bytes / forward / 1e9, 1)) | \(fixed(backward * 1e3, 3)) | \(fixed(5 * bytes / backward / 1e9, 1)) |"
            )
        }
        print("")
    }

    /// Raw OpenBLAS on M x N x K (row-major, no transposes) with its own threading: the
    /// yardstick for every conv shape. The backend keeps OpenBLAS single-threaded, so `run`
    /// raises its thread count for the call alone.
    final class RawSGEMM {
        let m: Int, n: Int, k: Int, threads: Int
        let a: [Float], b: [Float]
        var c: [Float]

        init(m: Int, n: Int, k: Int, threads: Int, values: ([Float], [Float])) {
            (self.m, self.n, self.k, self.threads) = (m, n, k, threads)
            (a, b) = values
            c = [Float](repeating: 0, count: m * n)
        }

        func run() {
            openblas_set_num_threads(Int32(threads))
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
            openblas_set_num_threads(1)
        }
    }

    func rawSGEMM(m: Int, n: Int, k: Int, threads: Int) -> RawSGEMM {
        RawSGEMM(m: m, n: n, k: k, threads: threads, values: (randomValues(m * k), randomValues(k * n)))
    }

    func random(_ backend: CPUBackend, _ shape: [Int]) throws -> Tensor {
        try backend.makeTensor(shape, values: randomValues(Tensor.elementCount(shape)))
    }

    /// Uniform values in [-1, 1), the same on every run.
    func randomValues(_ count: Int) -> [Float] {
        var generator = SeededGenerator(seed: 12345)
        return generator.signedFloats(count)
    }

    func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
}
