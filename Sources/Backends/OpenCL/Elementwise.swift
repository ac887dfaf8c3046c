import COpenCL
import FacemineDevice

extension OpenCLBackend {
    public func reluForward(_ x: Tensor, output: Tensor) {
        precondition(x.count == output.count, "relu \(x.shape) -> \(output.shape)")
        launch(Kernel.reluForward, global: x.count, [.tensor(x), .tensor(output), .int(x.count)])
    }

    public func reluBackward(gradOutput: Tensor, output: Tensor, gradInput: Tensor) {
        precondition(gradOutput.count == output.count && gradInput.count == output.count,
                     "relu backward on \(gradOutput.shape), \(output.shape), \(gradInput.shape)")
        launch(Kernel.reluBackward, global: output.count, [.tensor(gradOutput), .tensor(output), .tensor(gradInput), .int(output.count)])
    }

    public func add(_ a: Tensor, _ b: Tensor, output: Tensor) {
        precondition(a.count == b.count && a.count == output.count, "add \(a.shape) + \(b.shape) -> \(output.shape)")
        launch(Kernel.add, global: a.count, [.tensor(a), .tensor(b), .tensor(output), .int(a.count)])
    }

    public func axpby(alpha: Float, _ x: Tensor, beta: Float, _ y: Tensor) {
        precondition(x.count == y.count, "axpby \(x.shape) into \(y.shape)")
        launch(Kernel.axpby, global: x.count, [.float(alpha), .tensor(x), .float(beta), .tensor(y), .int(x.count)])
    }

    public func addBias(_ x: Tensor, bias: Tensor) {
        precondition(x.shape.count >= 2 && bias.shape == [x.shape[1]], "bias \(bias.shape) for \(x.shape)")
        let channels = x.shape[1], plane = x.count / Swift.max(x.shape[0] * channels, 1)
        launch(Kernel.addBias, global: x.count, [.tensor(x), .tensor(bias), .int(channels), .int(plane), .int(x.count)])
    }

    public func biasGradient(_ gradOutput: Tensor, into gradBias: Tensor) {
        let shape = gradOutput.shape
        precondition(shape.count >= 2 && gradBias.shape == [shape[1]], "bias gradient \(gradBias.shape) for \(shape)")
        let n = shape[0], channels = shape[1], plane = gradOutput.count / Swift.max(n * channels, 1)
        launch(Kernel.biasGradient, groups: channels,
               [.tensor(gradOutput), .tensor(gradBias), .int(n), .int(channels), .int(plane)])
    }

    public func dropoutForward(_ x: Tensor, output: Tensor, probability: Float, seed: UInt64, step: UInt64) {
        precondition(x.count == output.count, "dropout \(x.shape) -> \(output.shape)")
        dropout(x, output, probability: probability, seed: seed, step: step)
    }

    public func dropoutBackward(gradOutput: Tensor, gradInput: Tensor, probability: Float, seed: UInt64, step: UInt64) {
        precondition(gradOutput.count == gradInput.count, "dropout backward \(gradOutput.shape) -> \(gradInput.shape)")
        dropout(gradOutput, gradInput, probability: probability, seed: seed, step: step)
    }

    /// The Philox mask of `Philox.uniform`, drawn again on the device from (seed, step).
    private func dropout(_ src: Tensor, _ dst: Tensor, probability p: Float, seed: UInt64, step: UInt64) {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
        launch(Kernel.dropoutApply, global: (src.count + 3) / 4,
               [.tensor(src), .tensor(dst), .int(src.count), .float(p), .float(1 / (1 - p)),
                .uint(UInt32(truncatingIfNeeded: seed)), .uint(UInt32(truncatingIfNeeded: seed >> 32)),
                .uint(UInt32(truncatingIfNeeded: step)), .uint(UInt32(truncatingIfNeeded: step >> 32))])
    }
}
