import COpenCL
import FacemineDevice

extension OpenCLBackend {
    public func maxPoolForward(_ g: PoolGeometry, input: Tensor, output: Tensor, indices: Tensor) {
        OpContract.maxPoolForward(g, input: input, output: output, indices: indices)
        launch(
            Kernel.maxpoolForward, global: output.count,
            [.tensor(input), .tensor(output), .tensor(indices)] + poolArguments(g) + [.int(output.count)])
    }

    public func maxPoolBackward(_ g: PoolGeometry, gradOutput: Tensor, indices: Tensor, gradInput: Tensor) {
        OpContract.maxPoolBackward(g, gradOutput: gradOutput, indices: indices, gradInput: gradInput)
        launch(
            Kernel.maxpoolBackward, global: gradInput.count,
            [.tensor(gradOutput), .tensor(indices), .tensor(gradInput)] + poolArguments(g) + [.int(gradInput.count)])
    }

    private func poolArguments(_ g: PoolGeometry) -> [Argument] {
        [.int(g.height), .int(g.width), .int(g.outHeight), .int(g.outWidth), .int(g.kernel), .int(g.stride), .int(g.padding)]
    }

    public func globalAvgPoolForward(_ input: Tensor, output: Tensor) {
        OpContract.globalAvgPoolForward(input, output: output)
        launch(
            Kernel.globalAvgPoolForward, global: output.count,
            [.tensor(input), .tensor(output), .int(input.shape[2] * input.shape[3]), .int(output.count)])
    }

    public func globalAvgPoolBackward(_ gradOutput: Tensor, gradInput: Tensor) {
        OpContract.globalAvgPoolBackward(gradOutput, gradInput: gradInput)
        launch(
            Kernel.globalAvgPoolBackward, global: gradInput.count,
            [.tensor(gradOutput), .tensor(gradInput), .int(gradInput.shape[2] * gradInput.shape[3]), .int(gradInput.count)])
    }
}
