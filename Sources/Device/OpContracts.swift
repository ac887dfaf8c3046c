/// The shapes each op of `Backend` accepts, checked in one place for every backend: a backend
/// calls the op's check before it computes, so a caller's mistake stops with the same message
/// whichever backend runs, and a new backend cannot forget a check. A failed check stops the
/// process (a wrong shape is a programming error above the backend, not bad input) and says
/// what was wrong in every build: this module is compiled with -O, where `precondition` would
/// stop without its message.
public enum OpContract {
    @inline(__always)
    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError(message()) }
    }

    public static func upload(_ count: Int, into tensor: Tensor, _ dtype: DType) {
        require(
            tensor.dtype == dtype && count == tensor.count,
            "uploading \(count) \(dtype) values into \(tensor.shape) \(tensor.dtype)")
    }

    public static func download(_ tensor: Tensor, into count: Int, _ dtype: DType) {
        require(
            tensor.dtype == dtype && count == tensor.count,
            "downloading \(tensor.shape) \(tensor.dtype) into \(count) \(dtype) values")
    }

    public static func copy(_ source: Tensor, to destination: Tensor) {
        require(
            source.count == destination.count && source.dtype == destination.dtype,
            "copying \(source.shape) \(source.dtype) into \(destination.shape) \(destination.dtype)")
    }

    public static func gemm(_ op: GEMM, _ a: Tensor, _ b: Tensor, _ c: Tensor) {
        require(
            a.count >= op.elementsA && b.count >= op.elementsB && c.count >= op.elementsC,
            "GEMM \(op.m)x\(op.n)x\(op.k) x\(op.batchCount) does not fit tensors \(a.shape), \(b.shape), \(c.shape)")
    }

    public static func convForward(_ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor) {
        require(input.shape == g.inputShape, "conv input \(input.shape) does not match \(g)")
        require(weight.shape == g.weightShape, "conv weight \(weight.shape) does not match \(g)")
        require(output.shape == g.outputShape, "conv output \(output.shape) does not match \(g)")
        if let bias { require(bias.shape == [g.outChannels], "conv bias \(bias.shape) for \(g)") }
    }

    public static func convBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor, gradInput: Tensor?,
        gradWeight: Tensor, gradBias: Tensor?
    ) {
        require(input.shape == g.inputShape, "conv input \(input.shape) does not match \(g)")
        require(weight.shape == g.weightShape, "conv weight \(weight.shape) does not match \(g)")
        require(gradOutput.shape == g.outputShape, "conv gradOutput \(gradOutput.shape) does not match \(g)")
        if let gradInput { require(gradInput.shape == g.inputShape, "conv gradInput \(gradInput.shape) for \(g)") }
        require(gradWeight.shape == g.weightShape, "conv gradWeight \(gradWeight.shape) for \(g)")
        if let gradBias { require(gradBias.shape == [g.outChannels], "conv gradBias \(gradBias.shape) for \(g)") }
    }

    /// Batch norm's [N, C, ...] input and its output, with the per-channel tensors [C]; returns
    /// N, C and the plane size every backend's kernels loop over.
    public static func batchNorm(_ x: Tensor, output: Tensor, perChannel: [Tensor]) -> (n: Int, c: Int, plane: Int) {
        require(x.shape.count >= 2, "batch norm needs [N, C, ...], got \(x.shape)")
        require(output.shape == x.shape, "batch norm output \(output.shape) for input \(x.shape)")
        let n = x.shape[0], c = x.shape[1]
        for t in perChannel { require(t.shape == [c], "per-channel tensor \(t.shape) for \(c) channels") }
        return (n, c, x.count / Swift.max(n * c, 1))
    }

    public static func batchNormBackward(input: Tensor, gradInput: Tensor, reluOutput: Tensor?) {
        require(gradInput.shape == input.shape, "gradInput \(gradInput.shape) for input \(input.shape)")
        if let reluOutput { require(reluOutput.shape == input.shape, "ReLU output \(reluOutput.shape) for input \(input.shape)") }
    }

    public static func batchNormEpilogue(_ epilogue: BatchNormEpilogue, output: Tensor) {
        if let r = epilogue.residual { require(r.shape == output.shape, "residual \(r.shape) for output \(output.shape)") }
    }

    public static func maxPoolForward(_ g: PoolGeometry, input: Tensor, output: Tensor, indices: Tensor) {
        require(input.shape == g.inputShape, "max-pool input \(input.shape) for \(g)")
        require(
            output.shape == g.outputShape && indices.shape == g.outputShape,
            "max-pool output \(output.shape) / indices \(indices.shape) for \(g)")
    }

    public static func maxPoolBackward(_ g: PoolGeometry, gradOutput: Tensor, indices: Tensor, gradInput: Tensor) {
        require(gradInput.shape == g.inputShape, "max-pool gradInput \(gradInput.shape) for \(g)")
        require(
            gradOutput.shape == g.outputShape && indices.shape == g.outputShape,
            "max-pool gradOutput \(gradOutput.shape) / indices \(indices.shape) for \(g)")
    }

    public static func globalAvgPoolForward(_ input: Tensor, output: Tensor) {
        require(
            input.shape.count == 4 && output.shape == [input.shape[0], input.shape[1]],
            "global average pool maps [N, C, H, W] to [N, C]; got \(input.shape) -> \(output.shape)")
    }

    public static func globalAvgPoolBackward(_ gradOutput: Tensor, gradInput: Tensor) {
        require(
            gradInput.shape.count == 4 && gradOutput.shape == [gradInput.shape[0], gradInput.shape[1]],
            "global average pool backward: \(gradOutput.shape) -> \(gradInput.shape)")
    }

    public static func relu(_ x: Tensor, output: Tensor) {
        require(x.count == output.count, "relu \(x.shape) -> \(output.shape)")
    }

    public static func reluBackward(gradOutput: Tensor, output: Tensor, gradInput: Tensor) {
        require(
            gradOutput.count == output.count && gradInput.count == output.count,
            "relu backward on \(gradOutput.shape), \(output.shape), \(gradInput.shape)")
    }

    public static func add(_ a: Tensor, _ b: Tensor, output: Tensor) {
        require(a.count == b.count && a.count == output.count, "add \(a.shape) + \(b.shape) -> \(output.shape)")
    }

    public static func axpby(_ x: Tensor, _ y: Tensor) {
        require(x.count == y.count, "axpby \(x.shape) into \(y.shape)")
    }

    public static func addBias(_ x: Tensor, bias: Tensor) {
        require(x.shape.count >= 2 && bias.shape == [x.shape[1]], "bias \(bias.shape) for \(x.shape)")
    }

    public static func biasGradient(_ shape: [Int], gradBias: Tensor) {
        require(shape.count >= 2 && gradBias.shape == [shape[1]], "bias gradient \(gradBias.shape) for \(shape)")
    }

    public static func dropout(_ x: Tensor, output: Tensor, probability p: Float) {
        require(x.count == output.count, "dropout \(x.shape) -> \(output.shape)")
        require(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
    }

    /// Cross-entropy and focal loss: logits [N, classes], int32 labels [N], one loss value.
    public static func loss(
        logits: Tensor, labels: Tensor, classWeights: Tensor?, labelSmoothing: Float = 0, gamma: Float = 0,
        loss: Tensor, gradLogits: Tensor?
    ) {
        require(logits.shape.count == 2, "logits must be [N, classes], got \(logits.shape)")
        let n = logits.shape[0], classes = logits.shape[1]
        require(
            labels.shape == [n] && labels.dtype == .int32, "labels \(labels.shape) \(labels.dtype) for logits \(logits.shape)")
        require(loss.count == 1, "loss must hold one value")
        require(labelSmoothing >= 0 && labelSmoothing <= 1, "label smoothing must be in [0, 1]")
        require(gamma >= 0, "focal loss gamma must be at least 0, got \(gamma)")
        if let classWeights {
            require(classWeights.shape == [classes], "class weights \(classWeights.shape) for \(classes) classes")
        }
        if let gradLogits { require(gradLogits.shape == logits.shape, "gradLogits \(gradLogits.shape)") }
    }

    public static func sgdStep(parameter: Tensor, gradient: Tensor, momentumBuffer: Tensor?, momentum: Float, step: Int) {
        require(parameter.count == gradient.count, "SGD parameter \(parameter.shape) vs gradient \(gradient.shape)")
        require(step >= 1, "optimizer steps count from 1")
        guard momentum != 0 else { return }
        guard let momentumBuffer else { fatalError("SGD with momentum needs a momentum buffer") }
        require(momentumBuffer.count == parameter.count, "momentum buffer \(momentumBuffer.shape)")
    }

    public static func adamStep(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, step: Int) {
        require(
            parameter.count == gradient.count && parameter.count == firstMoment.count
                && parameter.count == secondMoment.count, "Adam tensors differ in size")
        require(step >= 1, "optimizer steps count from 1")
    }

    public static func argmaxRows(_ x: Tensor, into indices: Tensor) {
        require(x.shape.count == 2 && indices.shape == [x.shape[0]], "argmax of \(x.shape) into \(indices.shape)")
    }

    public static func squaredNorms(_ tensors: [Tensor], into result: Tensor) {
        require(result.count == tensors.count, "\(tensors.count) norms into \(result.shape)")
    }

    public static func sum(into result: Tensor) {
        require(result.count == 1, "sum writes one value")
    }
}
