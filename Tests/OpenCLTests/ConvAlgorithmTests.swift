import FacemineBackends
import FacemineDevice
@testable import FacemineOpenCL
import Foundation
import Testing

/// Each OpenCL convolution algorithm against the CPU backend on the same inputs, and the tuner
/// that picks among them: it never picks a candidate made slow on purpose, and its choices
/// outlive the process in their file.
@Suite struct ConvAlgorithmTests {
    let cpu: any Backend = try! BackendChoice.cpu.makeBackend(threads: 2).backend

    /// Shapes that reach every path of the implicit kernels: partial tiles, reductions that are
    /// not a multiple of the 16-deep slice, stride 2 with and without padding, 1x1 and 7x7
    /// kernels, a weight gradient split into slices (2,048 pixels), and several tiles both ways.
    static let shapes: [ConvGeometry] = [
        ConvGeometry(batch: 3, inChannels: 5, height: 9, width: 7, outChannels: 6, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 2, inChannels: 3, height: 11, width: 10, outChannels: 70, kernel: 3, stride: 2, padding: 0),
        ConvGeometry(batch: 2, inChannels: 1, height: 20, width: 20, outChannels: 8, kernel: 7, stride: 2, padding: 3),
        ConvGeometry(batch: 2, inChannels: 40, height: 6, width: 6, outChannels: 33, kernel: 1, stride: 2, padding: 0),
        ConvGeometry(batch: 8, inChannels: 24, height: 16, width: 16, outChannels: 40, kernel: 3, stride: 1, padding: 1),
    ]

    /// Forward output, input, weight and bias gradients of one shape.
    func run(_ g: ConvGeometry, on backend: any Backend, _ conv: (any Backend, [Tensor], [Tensor]) -> Void) throws -> [[Float]] {
        let inputs = [
            (g.inputShape, CrossBackendTests.values(Tensor.elementCount(g.inputShape), seed: 1)),
            (g.weightShape, CrossBackendTests.values(Tensor.elementCount(g.weightShape), seed: 2, scale: 0.3)),
            ([g.outChannels], CrossBackendTests.values(g.outChannels, seed: 3)),
            (g.outputShape, CrossBackendTests.values(Tensor.elementCount(g.outputShape), seed: 4)),
        ]
        let i = try inputs.map { try backend.makeTensor($0.0, values: $0.1) }
        let o = try [g.outputShape, g.inputShape, g.weightShape, [g.outChannels]].map { try backend.makeTensor($0) }
        conv(backend, i, o)
        return try o.map { try backend.floats($0) }
    }

    func expectAgree(_ a: [Float], _ b: [Float], _ what: String) {
        let scale = max(a.map(abs).max() ?? 0, 1e-20)
        let worst = zip(a, b).map { abs($0 - $1) / (abs($0) + scale) }.max() ?? 0
        #expect(a.count == b.count && worst <= 1e-4, "\(what): CPU and OpenCL differ by \(worst) (relative)")
    }

    /// Every algorithm on every shape it runs (Winograd: the two 3x3 stride-1 shapes, one with
    /// odd planes, whose last tiles are partial).
    static let runs = OpenCLConvAlgorithm.allCases.flatMap { a in shapes.filter(a.runs).map { (a, $0) } }

    @Test func winogradRunsOnlyThe3x3Stride1Shapes() {
        #expect(Self.runs.filter { $0.0 == .winograd }.map(\.1) == [Self.shapes[0], Self.shapes[4]])
    }

    @Test(arguments: runs)
    func everyAlgorithmAgreesWithTheCPUBackend(_ algorithm: OpenCLConvAlgorithm, _ g: ConvGeometry) throws {
        let opencl = try OpenCLBackend()
        let expected = try run(g, on: cpu) { b, i, o in
            b.conv2dForward(g, input: i[0], weight: i[1], bias: i[2], output: o[0])
            b.conv2dBackward(g, input: i[0], weight: i[1], gradOutput: i[3], gradInput: o[1], gradWeight: o[2], gradBias: o[3])
        }
        // Outputs start as garbage, so a kernel that skips an element cannot pass on zeros.
        let got = try run(g, on: opencl) { _, i, o in
            for t in o { opencl.fill(t, with: .nan) }
            opencl.conv2dForward(g, input: i[0], weight: i[1], bias: i[2], output: o[0], algorithm: algorithm)
            opencl.conv2dBackward(
                g, input: i[0], weight: i[1], gradOutput: i[3], gradInput: o[1], gradWeight: o[2], gradBias: o[3],
                algorithm: algorithm)
        }
        for (index, name) in ["output", "grad input", "grad weight", "grad bias"].enumerated() {
            expectAgree(expected[index], got[index], "\(algorithm.rawValue) \(g) \(name)")
        }
    }

    /// A backend with a tuner of its own (no file unless given), so tests do not share choices.
    func tunedBackend(file: URL? = nil, slowed: OpenCLConvAlgorithm? = nil) throws -> OpenCLBackend {
        let backend = try OpenCLBackend()
        backend.convTuner = ConvTuner(file: file)
        backend.slowedConvAlgorithm = slowed
        return backend
    }

    @Test(arguments: OpenCLConvAlgorithm.allCases)
    func theTunerNeverPicksACandidateMadeSlow(_ slowed: OpenCLConvAlgorithm) throws {
        let backend = try tunedBackend(slowed: slowed)
        let g = Self.shapes[4]
        _ = try run(g, on: backend) { b, i, o in
            b.conv2dForward(g, input: i[0], weight: i[1], bias: i[2], output: o[0])
            b.conv2dBackward(g, input: i[0], weight: i[1], gradOutput: i[3], gradInput: o[1], gradWeight: o[2], gradBias: o[3])
        }
        let table = backend.convTuner.table
        #expect(table.count == 2 && backend.convTuner.timedShapes == 2, "forward and backward timed: \(table)")
        for pass in [ConvTuner.Pass.forward, .backward] {
            let chosen = table[ConvTuner.key(g, pass)]
            #expect(chosen != nil && chosen != slowed, "\(pass): picked \(chosen?.rawValue ?? "nothing") with \(slowed) slowed")
        }
    }

    @Test func theTunersChoicesAreKeptInTheirFileAndNotTimedAgain() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "facemine-tuner-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("choices.json")
        let g = Self.shapes[0]
        let forward = { (b: any Backend, i: [Tensor], o: [Tensor]) in
            b.conv2dForward(g, input: i[0], weight: i[1], bias: i[2], output: o[0])
        }
        let first = try tunedBackend(file: file)
        let firstResult = try run(g, on: first, forward)
        #expect(first.convTuner.timedShapes == 1)
        let chosen = try #require(first.convTuner.table[ConvTuner.key(g, .forward)])

        let second = try tunedBackend(file: file, slowed: chosen)
        #expect(second.convTuner.table[ConvTuner.key(g, .forward)] == chosen, "read back from \(file.path)")
        let secondResult = try run(g, on: second, forward)
        #expect(second.convTuner.timedShapes == 0, "a kept shape is not timed again")
        #expect(secondResult[0] == firstResult[0], "the same algorithm gives the same output")
    }
}
