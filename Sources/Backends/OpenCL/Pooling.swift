import COpenCL
import FacemineDevice

extension OpenCLBackend {
    public func maxPoolForward(_ g: PoolGeometry, input: Tensor, output: Tensor, indices: Tensor) {
        precondition(input.shape == g.inputShape, "max-pool input \(input.shape) for \(g)")
        precondition(output.shape == g.outputShape && indices.shape == g.outputShape,
                     "max-pool output \(output.shape) / indices \(indices.shape) for \(g)")
        launch(Kernel.maxpoolForward, global: output.count,
               [.tensor(input), .tensor(output), .tensor(indices)] + poolArguments(g) + [.int(output.count)])
    }

    public func maxPoolBackward(_ g: PoolGeometry, gradOutput: Tensor, indices: Tensor, gradInput: Tensor) {
        precondition(gradInput.shape == g.inputShape, "max-pool gradInput \(gradInput.shape) for \(g)")
        precondition(gradOutput.shape == g.outputShape && indices.shape == g.outputShape,
                     "max-pool gradOutput \(gradOutput.shape) / indices \(indices.shape) for \(g)")
        launch(Kernel.maxpoolBackward, global: gradInput.count,
               [.tensor(gradOutput), .tensor(indices), .tensor(gradInput)] + poolArguments(g) + [.int(gradInput.count)])
    }

    private func poolArguments(_ g: PoolGeometry) -> [Argument] {
        [.int(g.height), .int(g.width), .int(g.outHeight), .int(g.outWidth), .int(g.kernel), .int(g.stride), .int(g.padding)]
    }

    public func globalAvgPoolForward(_ input: Tensor, output: Tensor) {
        precondition(input.shape.count == 4 && output.shape == [input.shape[0], input.shape[1]],
                     "global average pool maps [N, C, H, W] to [N, C]; got \(input.shape) -> \(output.shape)")
        launch(Kernel.globalAvgPoolForward, global: output.count,
               [.tensor(input), .tensor(output), .int(input.shape[2] * input.shape[3]), .int(output.count)])
    }

    public func globalAvgPoolBackward(_ gradOutput: Tensor, gradInput: Tensor) {
        precondition(gradInput.shape.count == 4 && gradOutput.shape == [gradInput.shape[0], gradInput.shape[1]],
                     "global average pool backward: \(gradOutput.shape) -> \(gradInput.shape)")
        launch(Kernel.globalAvgPoolBackward, global: gradInput.count,
               [.tensor(gradOutput), .tensor(gradInput), .int(gradInput.shape[2] * gradInput.shape[3]), .int(gradInput.count)])
    }
}
