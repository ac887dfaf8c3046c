import FacemineDevice

/// Which convolution algorithm runs for a shape. im2col + GEMM wins whenever the reduction
/// (in channels x kernel area) is long enough to keep BLAS busy; with few input channels
/// (a network's first layer) the im2col matrix is mostly copying, and a direct loop that keeps
/// each image plane in L1 is faster. The threshold comes from the op benchmark
/// (docs/BENCHMARKS.md).
public enum ConvAlgorithm: Sendable {
    case direct
    case im2col

    public static let directMaximumReduction = 64

    public init(_ g: ConvGeometry) {
        self = g.gemmK <= ConvAlgorithm.directMaximumReduction ? .direct : .im2col
    }
}

extension CPUBackend {
    public func conv2dForward(_ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor) {
        checkConvShapes(g, input: input, weight: weight, output: output, bias: bias)
        conv2dForward(g, input: input, weight: weight, bias: bias, output: output, algorithm: ConvAlgorithm(g))
    }

    public func conv2dBackward(_ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor,
                               gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor?) {
        checkConvShapes(g, input: input, weight: weight, output: gradOutput, bias: gradBias)
        if let gradInput { precondition(gradInput.shape == g.inputShape, "gradInput \(gradInput.shape) for \(g)") }
        precondition(gradWeight.shape == g.weightShape, "gradWeight \(gradWeight.shape) for \(g)")
        conv2dBackward(g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
                       gradWeight: gradWeight, gradBias: gradBias, algorithm: ConvAlgorithm(g))
    }

    /// Runs a chosen algorithm; the op benchmark calls this to compare both on one shape.
    public func conv2dForward(_ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?,
                              output: Tensor, algorithm: ConvAlgorithm) {
        switch algorithm {
        case .direct:
            directConvForward(g, input: input.floats, weight: weight.floats, bias: bias?.floats, output: output.floats)
        case .im2col:
            im2colConvForward(g, input: input.floats, weight: weight.floats, bias: bias?.floats, output: output.floats)
        }
    }

    public func conv2dBackward(_ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor,
                               gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor?,
                               algorithm: ConvAlgorithm) {
        switch algorithm {
        case .direct:
            directConvBackward(g, input: input.floats, weight: weight.floats, gradOutput: gradOutput.floats,
                               gradInput: gradInput?.floats, gradWeight: gradWeight.floats, gradBias: gradBias?.floats)
        case .im2col:
            im2colConvBackward(g, input: input.floats, weight: weight.floats, gradOutput: gradOutput.floats,
                               gradInput: gradInput?.floats, gradWeight: gradWeight.floats, gradBias: gradBias?.floats)
        }
    }

    private func checkConvShapes(_ g: ConvGeometry, input: Tensor, weight: Tensor, output: Tensor, bias: Tensor?) {
        precondition(input.shape == g.inputShape, "conv input \(input.shape) does not match \(g)")
        precondition(weight.shape == g.weightShape, "conv weight \(weight.shape) does not match \(g)")
        precondition(output.shape == g.outputShape, "conv output \(output.shape) does not match \(g)")
        if let bias { precondition(bias.shape == [g.outChannels], "conv bias \(bias.shape) for \(g)") }
    }
}

/// The output columns [lo, hi) for which input column x*stride - padding + offset is inside 0..<size.
@inline(__always)
func validRange(offset: Int, stride: Int, padding: Int, size: Int, outSize: Int) -> (Int, Int) {
    // x*stride + offset - padding >= 0  <=>  x >= ceil((padding - offset) / stride)
    let start = padding - offset
    let lo = start <= 0 ? 0 : (start + stride - 1) / stride
    // x*stride + offset - padding <= size - 1  <=>  x <= floor((size - 1 + padding - offset) / stride)
    let end = size - 1 + padding - offset
    let hi = end < 0 ? 0 : end / stride + 1
    return (Swift.min(lo, outSize), Swift.max(Swift.min(hi, outSize), Swift.min(lo, outSize)))
}
