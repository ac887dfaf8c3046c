import COpenCL
import FacemineDevice

/// Batch normalisation: per-channel statistics as work-group reductions on the device (no host
/// round trip), then an elementwise pass.
extension OpenCLBackend {
    public func batchNormTrainingForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVariance: Tensor,
        settings: BatchNormSettings, output: Tensor,
        savedMean: Tensor, savedInvStd: Tensor, epilogue: BatchNormEpilogue
    ) {
        let (n, c, plane) = OpContract.batchNorm(
            x, output: output, perChannel: [gamma, beta, runningMean, runningVariance, savedMean, savedInvStd])
        OpContract.batchNormEpilogue(epilogue, output: output)
        launch(
            Kernel.bnStatistics, groups: c,
            [
                .tensor(x), .int(n), .int(c), .int(plane), .float(settings.momentum), .float(settings.epsilon),
                .tensor(runningMean), .tensor(runningVariance), .tensor(savedMean), .tensor(savedInvStd),
            ])
        launch(
            Kernel.bnApply, global: x.count,
            [
                .tensor(x), .tensor(output), .tensor(gamma), .tensor(beta), .tensor(savedMean), .tensor(savedInvStd),
                .int(c), .int(plane), .int(x.count),
            ] + epilogueArguments(epilogue, unused: x))
    }

    public func batchNormInferenceForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVariance: Tensor,
        epsilon: Float, output: Tensor, epilogue: BatchNormEpilogue
    ) {
        let (_, c, plane) = OpContract.batchNorm(x, output: output, perChannel: [gamma, beta, runningMean, runningVariance])
        OpContract.batchNormEpilogue(epilogue, output: output)
        launch(
            Kernel.bnInference, global: x.count,
            [
                .tensor(x), .tensor(output), .tensor(gamma), .tensor(beta), .tensor(runningMean), .tensor(runningVariance),
                .float(epsilon), .int(c), .int(plane), .int(x.count),
            ] + epilogueArguments(epilogue, unused: x))
    }

    public func batchNormBackward(
        gradOutput: Tensor, input: Tensor, gamma: Tensor,
        savedMean: Tensor, savedInvStd: Tensor,
        gradInput: Tensor, gradGamma: Tensor, gradBeta: Tensor, reluOutput: Tensor?
    ) {
        let (n, c, plane) = OpContract.batchNorm(
            input, output: gradOutput, perChannel: [gamma, savedMean, savedInvStd, gradGamma, gradBeta])
        OpContract.batchNormBackward(input: input, gradInput: gradInput, reluOutput: reluOutput)
        launch(
            Kernel.bnBackwardReduce, groups: c,
            [
                .tensor(gradOutput), .tensor(input), .tensor(savedMean), .tensor(savedInvStd),
                .int(n), .int(c), .int(plane), .tensor(gradGamma), .tensor(gradBeta),
                .tensor(reluOutput ?? input), .int(reluOutput == nil ? 0 : 1),
            ])
        launch(
            Kernel.bnBackwardApply, global: input.count,
            [
                .tensor(gradOutput), .tensor(input), .tensor(gamma), .tensor(savedMean), .tensor(savedInvStd),
                .tensor(gradGamma), .tensor(gradBeta), .tensor(gradInput),
                .int(c), .int(plane), .float(Float(n * plane)), .int(input.count),
            ])
    }

    /// The residual tensor and the two switches the normalisation kernels end with; a kernel
    /// argument cannot be null, so without a residual `unused` stands in, never read.
    private func epilogueArguments(_ epilogue: BatchNormEpilogue, unused: Tensor) -> [Argument] {
        [.tensor(epilogue.residual ?? unused), .int(epilogue.residual == nil ? 0 : 1), .int(epilogue.relu ? 1 : 0)]
    }
}
