import FacemineDevice
import FacemineRandom
import Testing

/// Convolution shapes chosen to reach every code path: batch 1, odd sizes, stride 2, padding
/// 0/1/3, 1x1 kernels, short reductions (direct kernels) and long ones (im2col + GEMM).
let convolutionCases: [ConvGeometry] =
    [
        ConvGeometry(batch: 1, inChannels: 1, height: 7, width: 9, outChannels: 3, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 2, inChannels: 3, height: 11, width: 10, outChannels: 4, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(batch: 2, inChannels: 8, height: 9, width: 9, outChannels: 5, kernel: 3, stride: 1, padding: 0),
        ConvGeometry(batch: 3, inChannels: 3, height: 13, width: 12, outChannels: 4, kernel: 7, stride: 2, padding: 3),
        ConvGeometry(batch: 2, inChannels: 5, height: 6, width: 7, outChannels: 6, kernel: 1, stride: 2, padding: 0),
        ConvGeometry(batch: 1, inChannels: 16, height: 5, width: 5, outChannels: 7, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(batch: 2, inChannels: 2, height: 8, width: 8, outChannels: 3, kernel: 5, stride: 1, padding: 3),
        ConvGeometry(batch: 2, inChannels: 70, height: 4, width: 5, outChannels: 3, kernel: 1, stride: 2, padding: 0),
        ConvGeometry(batch: 2, inChannels: 9, height: 3, width: 3, outChannels: 2, kernel: 3, stride: 2, padding: 0),
    ] + randomConvolutionCases(seed: 2024, count: 4)

/// A few shapes drawn at random (fixed seed), to catch what hand-picked shapes miss.
func randomConvolutionCases(seed: UInt64, count: Int) -> [ConvGeometry] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
        let kernel = [1, 3, 5].randomElement(using: &rng)!
        let padding = Int.random(in: 0...min(3, kernel), using: &rng)
        let height = Int.random(in: max(1, kernel - 2 * padding)...12, using: &rng)
        let width = Int.random(in: max(1, kernel - 2 * padding)...12, using: &rng)
        return ConvGeometry(
            batch: Int.random(in: 1...3, using: &rng), inChannels: Int.random(in: 1...12, using: &rng),
            height: height, width: width, outChannels: Int.random(in: 1...6, using: &rng),
            kernel: kernel, stride: Int.random(in: 1...2, using: &rng), padding: padding)
    }
}

@Suite struct ConvolutionTests {
    @Test(arguments: BackendUnderTest.all, convolutionCases)
    func forwardAndBackwardMatchReference(_ target: BackendUnderTest, _ g: ConvGeometry) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: UInt64(g.gemmK * 31 + g.gemmN))
        let x = rng.values(Tensor.elementCount(g.inputShape))
        let w = rng.values(Tensor.elementCount(g.weightShape), scale: 0.5)
        let b = rng.values(g.outChannels)
        let dy = rng.values(Tensor.elementCount(g.outputShape))

        let input = try backend.makeTensor(g.inputShape, values: x.floats)
        let weight = try backend.makeTensor(g.weightShape, values: w.floats)
        let bias = try backend.makeTensor([g.outChannels], values: b.floats)
        let output = try backend.makeTensor(g.outputShape)
        backend.conv2dForward(g, input: input, weight: weight, bias: bias, output: output)
        expectClose(try backend.floats(output), Reference.convForward(g, input: x, weight: w, bias: b), "\(g) forward")

        let gradOutput = try backend.makeTensor(g.outputShape, values: dy.floats)
        let gradInput = try backend.makeTensor(g.inputShape)
        let gradWeight = try backend.makeTensor(g.weightShape)
        let gradBias = try backend.makeTensor([g.outChannels])
        // Poison the outputs: the op must overwrite, never accumulate.
        backend.fill(gradInput, with: 7)
        backend.fill(gradWeight, with: 7)
        backend.fill(gradBias, with: 7)
        backend.conv2dBackward(
            g, input: input, weight: weight, gradOutput: gradOutput,
            gradInput: gradInput, gradWeight: gradWeight, gradBias: gradBias)
        let expected = Reference.convBackward(g, input: x, weight: w, gradOutput: dy)
        expectClose(try backend.floats(gradInput), expected.input, "\(g) grad input")
        expectClose(try backend.floats(gradWeight), expected.weight, "\(g) grad weight")
        expectClose(try backend.floats(gradBias), expected.bias, "\(g) grad bias")

        // A first layer asks for no input gradient and a bias-free conv for no bias gradient.
        backend.fill(gradWeight, with: 7)
        backend.conv2dBackward(
            g, input: input, weight: weight, gradOutput: gradOutput,
            gradInput: nil, gradWeight: gradWeight, gradBias: nil)
        expectClose(try backend.floats(gradWeight), expected.weight, "\(g) grad weight alone")
        backend.conv2dForward(g, input: input, weight: weight, bias: nil, output: output)
        expectClose(
            try backend.floats(output), Reference.convForward(g, input: x, weight: w, bias: nil), "\(g) forward without bias")
    }

    @Test(arguments: BackendUnderTest.all)
    func steadyStateStepsAllocateNothing(_ target: BackendUnderTest) throws {
        let backend = try target.make()
        let g = ConvGeometry(batch: 4, inChannels: 16, height: 12, width: 12, outChannels: 8, kernel: 3, stride: 1, padding: 1)
        let input = try backend.makeTensor(g.inputShape), weight = try backend.makeTensor(g.weightShape)
        let output = try backend.makeTensor(g.outputShape), gradInput = try backend.makeTensor(g.inputShape)
        let gradWeight = try backend.makeTensor(g.weightShape)
        func step() throws {
            backend.conv2dForward(g, input: input, weight: weight, bias: nil, output: output)
            backend.conv2dBackward(
                g, input: input, weight: weight, gradOutput: output,
                gradInput: gradInput, gradWeight: gradWeight, gradBias: nil)
            try backend.synchronize()
        }
        try step()
        let warm = backend.memoryStatistics
        for _ in 0..<3 { try step() }
        #expect(backend.memoryStatistics == warm, "steps after the first allocated: \(warm) -> \(backend.memoryStatistics)")
    }
}
