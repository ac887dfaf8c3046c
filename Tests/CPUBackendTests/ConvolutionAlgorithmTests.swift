import FacemineCPU
import FacemineDevice
import FacemineRandom
import Testing

/// The CPU backend picks between convolution algorithms by shape; the conformance suite only
/// sees the one it picks. These run every one on the same shapes (with 3 threads, so
/// thread slices are uneven, the batched path forced into one image per chunk and the direct
/// weight gradient's copy of x through its non-temporal path), so each code path is checked
/// whatever the heuristic says.
@Suite struct ConvolutionAlgorithmTests {
    static let shapes = [
        ConvGeometry(batch: 3, inChannels: 1, height: 9, width: 8, outChannels: 4, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 3, inChannels: 4, height: 11, width: 9, outChannels: 5, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 2, inChannels: 1, height: 12, width: 12, outChannels: 3, kernel: 7, stride: 2, padding: 3),
        ConvGeometry(batch: 5, inChannels: 3, height: 6, width: 7, outChannels: 4, kernel: 1, stride: 2, padding: 0),
        // The direct algorithm's eleven 3x3 geometries (16-channel multiples; 1, 3, 4, 5 and 7 images leave
        // partial tiles of images).
        ConvGeometry(batch: 5, inChannels: 16, height: 2, width: 2, outChannels: 32, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 7, inChannels: 32, height: 3, width: 3, outChannels: 16, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 5, inChannels: 16, height: 3, width: 3, outChannels: 48, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 4, inChannels: 32, height: 6, width: 6, outChannels: 16, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 3, inChannels: 16, height: 12, width: 12, outChannels: 32, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 3, inChannels: 32, height: 24, width: 24, outChannels: 16, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 2, inChannels: 16, height: 48, width: 48, outChannels: 16, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 5, inChannels: 16, height: 6, width: 6, outChannels: 32, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 3, inChannels: 32, height: 12, width: 12, outChannels: 16, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 3, inChannels: 16, height: 24, width: 24, outChannels: 32, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 2, inChannels: 32, height: 48, width: 48, outChannels: 16, kernel: 3, stride: 2, padding: 1),
        // Its two 1x1 stride-2 geometries (the imagenet stem's layer3 and layer4 shortcuts). One
        // out-channel block with 32 in channels splits the weight gradient over 3 threads into
        // 10, 10 and 12 channels, off the kernel's 16-channel groups.
        ConvGeometry(batch: 3, inChannels: 32, height: 6, width: 6, outChannels: 16, kernel: 1, stride: 2, padding: 0),
        ConvGeometry(batch: 7, inChannels: 16, height: 3, width: 3, outChannels: 32, kernel: 1, stride: 2, padding: 0),
        // 48 out channels: three blocks, split over 3 threads.
        ConvGeometry(batch: 3, inChannels: 16, height: 6, width: 6, outChannels: 48, kernel: 1, stride: 2, padding: 0),
        // 13 blocks over 3 threads (5, 4, 4): the weight gradient's tiles of 4 blocks, and of 1.
        ConvGeometry(batch: 3, inChannels: 16, height: 6, width: 6, outChannels: 208, kernel: 1, stride: 2, padding: 0),
        // Its one-channel first layer (vectors along rows; 24 out channels = 3 tiles of 8, 12
        // pairs for the weight gradient over 3 threads).
        ConvGeometry(batch: 3, inChannels: 1, height: 48, width: 48, outChannels: 24, kernel: 3, stride: 1, padding: 1),
        // And the imagenet stem (7x7, stride 2; 16 out channels: 2 tiles of 8, 8 pairs).
        ConvGeometry(batch: 3, inChannels: 1, height: 48, width: 48, outChannels: 16, kernel: 7, stride: 2, padding: 3),
        // The pointwise algorithm (1x1, no padding, 64+ output pixels): odd sizes everywhere (rows
        // off the wide kernel's groups of 4, partial panels, dX written by the plain loop), stride
        // 1 and 2, and 130 in channels with 144 output pixels, so both of its products run more
        // than one k block.
        ConvGeometry(batch: 3, inChannels: 5, height: 17, width: 19, outChannels: 7, kernel: 1, stride: 2, padding: 0),
        ConvGeometry(batch: 2, inChannels: 6, height: 9, width: 11, outChannels: 9, kernel: 1, stride: 1, padding: 0),
        ConvGeometry(batch: 4, inChannels: 130, height: 24, width: 24, outChannels: 6, kernel: 1, stride: 2, padding: 0),
        // A 32-wide input: dX streamed out in whole vectors (24 wide above: the half-vector case).
        ConvGeometry(batch: 2, inChannels: 8, height: 32, width: 32, outChannels: 12, kernel: 1, stride: 2, padding: 0),
    ]

    /// Every row of the direct kernels' geometry table has a shape above, so a new geometry
    /// cannot go untested.
    @Test func theShapesCoverEveryDirectGeometry() {
        let table = CPUBackend.directGeometries
        #expect(table.count == 13 && Set(table.map(\.name)).count == table.count)
        for row in table {
            let covered = Self.shapes.contains {
                $0.kernel == row.kernel && $0.width == row.inWidth && $0.outWidth == row.outWidth && $0.stride == row.stride
                    && ConvAlgorithm.direct.applies(to: $0)
            }
            #expect(covered, "no shape exercises the direct geometry \(row.name)")
        }
    }

    @Test(arguments: shapes)
    func everyApplicableAlgorithmAgrees(_ g: ConvGeometry) throws {
        try agree(g, [ConvAlgorithm](ConvAlgorithm.allCases))
    }

    /// The C kernels' baseline copy (what runs without AVX-512), checked here too.
    @Test(arguments: shapes.filter { ConvAlgorithm.direct.applies(to: $0) || ConvAlgorithm.pointwise.applies(to: $0) })
    func baselineKernelsAgree(_ g: ConvGeometry) throws {
        CPUBackend.useBaselineDirectKernels(true)
        defer { CPUBackend.useBaselineDirectKernels(false) }
        try agree(g, [.direct, .pointwise])
    }

    func agree(_ g: ConvGeometry, _ algorithms: [ConvAlgorithm]) throws {
        let reference = CPUBackend(threads: 2)
        let chunked = CPUBackend(threads: 3)
        chunked.columnChunkBytes = 1  // batched: one image per chunk
        chunked.cacheBypassBytes = 0  // direct: x copied by channel with non-temporal stores
        func run(_ backend: CPUBackend, _ algorithm: ConvAlgorithm) throws -> [[Float]] {
            var generator = SeededGenerator(seed: 17)
            func values(_ n: Int) -> [Float] { generator.signedFloats(n) }
            let x = try backend.makeTensor(g.inputShape, values: values(Tensor.elementCount(g.inputShape)))
            let w = try backend.makeTensor(g.weightShape, values: values(Tensor.elementCount(g.weightShape)))
            let b = try backend.makeTensor([g.outChannels], values: values(g.outChannels))
            let dy = try backend.makeTensor(g.outputShape, values: values(Tensor.elementCount(g.outputShape)))
            let y = try backend.makeTensor(g.outputShape), dx = try backend.makeTensor(g.inputShape)
            let dw = try backend.makeTensor(g.weightShape), db = try backend.makeTensor([g.outChannels])
            backend.conv2dForward(g, input: x, weight: w, bias: b, output: y, algorithm: algorithm)
            backend.conv2dBackward(
                g, input: x, weight: w, gradOutput: dy, gradInput: dx, gradWeight: dw,
                gradBias: db, algorithm: algorithm)
            return try [y, dx, dw, db].map { try backend.floats($0) }
        }
        let expected = try run(reference, .batched)
        for algorithm in algorithms where algorithm.applies(to: g) {
            let actual = try run(chunked, algorithm)
            for (name, (a, b)) in zip(["output", "grad input", "grad weight", "grad bias"], zip(expected, actual)) {
                let scale = a.map { abs($0) }.max() ?? 0
                let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * max(scale, 1), "\(g) \(name): \(algorithm) differs from batched by \(worst)")
            }
        }
    }

    @Test func convolutionLogTimesEachCallOnlyWhileSet() throws {
        let backend = CPUBackend(threads: 2)
        let g = Self.shapes[1]
        let x = try backend.makeTensor(g.inputShape), w = try backend.makeTensor(g.weightShape)
        let y = try backend.makeTensor(g.outputShape), dx = try backend.makeTensor(g.inputShape)
        let dw = try backend.makeTensor(g.weightShape)
        func pass() {
            backend.conv2dForward(g, input: x, weight: w, bias: nil, output: y)
            backend.conv2dBackward(g, input: x, weight: w, gradOutput: y, gradInput: dx, gradWeight: dw, gradBias: nil)
        }
        let log = ConvolutionLog()
        backend.convolutionLog = log
        pass()
        backend.convolutionLog = nil
        pass()
        #expect(log.entries.map(\.backward) == [false, true])
        #expect(log.entries.allSatisfy { $0.geometry == g && $0.seconds > 0 })
    }

    @Test func usefulFlopsLeaveOutThePadding() {
        // 3x3, padding 1 on a 2x2 map: each output reads 4 of its 9 taps.
        let tiny = ConvGeometry(batch: 2, inChannels: 3, height: 2, width: 2, outChannels: 5, kernel: 3, stride: 1, padding: 1)
        #expect(tiny.usefulFlops == 2 * 2 * 5 * 3 * 16)
        #expect(tiny.flops == 2 * 2 * 5 * 3 * 36)
        // 3x3 -> 2x2 with stride 2: rows -1..1 and 1..3 of a 3-row input, 2 valid each way.
        let strided = ConvGeometry(batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1, kernel: 3, stride: 2, padding: 1)
        #expect(strided.usefulFlops == 2 * 16)
        // No padding: nothing to leave out.
        let unpadded = ConvGeometry(
            batch: 3, inChannels: 4, height: 6, width: 7, outChannels: 2, kernel: 1, stride: 2, padding: 0)
        #expect(unpadded.usefulFlops == unpadded.flops)
    }

    @Test func threadCountComesFromTheEnvironmentOrCores() {
        #expect(CPUBackend.defaultThreadCount >= 1)
        #expect(CPUBackend(threads: 3).deviceDescription.hasPrefix("CPU: 3 threads, OpenBLAS"))
    }
}
