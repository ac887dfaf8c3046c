import COpenCL
import FacemineDevice

extension OpenCLBackend {
    public func reluForward(_ x: Tensor, output: Tensor) {
        OpContract.relu(x, output: output)
        launch(Kernel.reluForward, global: x.count, [.tensor(x), .tensor(output), .int(x.count)])
    }

    public func reluBackward(gradOutput: Tensor, output: Tensor, gradInput: Tensor) {
        OpContract.reluBackward(gradOutput: gradOutput, output: output, gradInput: gradInput)
        launch(
            Kernel.reluBackward, global: output.count,
            [.tensor(gradOutput), .tensor(output), .tensor(gradInput), .int(output.count)])
    }

    public func add(_ a: Tensor, _ b: Tensor, output: Tensor) {
        OpContract.add(a, b, output: output)
        launch(Kernel.add, global: a.count, [.tensor(a), .tensor(b), .tensor(output), .int(a.count)])
    }

    public func axpby(alpha: Float, _ x: Tensor, beta: Float, _ y: Tensor) {
        OpContract.axpby(x, y)
        launch(Kernel.axpby, global: x.count, [.float(alpha), .tensor(x), .float(beta), .tensor(y), .int(x.count)])
    }

    public func addBias(_ x: Tensor, bias: Tensor) {
        OpContract.addBias(x, bias: bias)
        let channels = x.shape[1], plane = x.count / Swift.max(x.shape[0] * channels, 1)
        launch(Kernel.addBias, global: x.count, [.tensor(x), .tensor(bias), .int(channels), .int(plane), .int(x.count)])
    }

    public func biasGradient(_ gradOutput: Tensor, into gradBias: Tensor) {
        let shape = gradOutput.shape
        OpContract.biasGradient(shape, gradBias: gradBias)
        let n = shape[0], channels = shape[1], plane = gradOutput.count / Swift.max(n * channels, 1)
        launch(
            Kernel.biasGradient, groups: channels,
            [.tensor(gradOutput), .tensor(gradBias), .int(n), .int(channels), .int(plane)])
    }

    public func dropoutForward(_ x: Tensor, output: Tensor, probability: Float, seed: UInt64, step: UInt64) {
        OpContract.dropout(x, output: output, probability: probability)
        dropout(x, output, probability: probability, seed: seed, step: step)
    }

    public func dropoutBackward(gradOutput: Tensor, gradInput: Tensor, probability: Float, seed: UInt64, step: UInt64) {
        OpContract.dropout(gradOutput, output: gradInput, probability: probability)
        dropout(gradOutput, gradInput, probability: probability, seed: seed, step: step)
    }

    /// The Philox mask of `Philox.uniform`, drawn again on the device from (seed, step).
    private func dropout(_ src: Tensor, _ dst: Tensor, probability p: Float, seed: UInt64, step: UInt64) {
        launch(
            Kernel.dropoutApply, global: (src.count + 3) / 4,
            [
                .tensor(src), .tensor(dst), .int(src.count), .float(p), .float(1 / (1 - p)),
                .uint(UInt32(truncatingIfNeeded: seed)), .uint(UInt32(truncatingIfNeeded: seed >> 32)),
                .uint(UInt32(truncatingIfNeeded: step)), .uint(UInt32(truncatingIfNeeded: step >> 32)),
            ])
    }
}
