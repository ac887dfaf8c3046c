import FacemineDevice

extension CPUBackend {
    public func maxPoolForward(_ g: PoolGeometry, input: Tensor, output: Tensor, indices: Tensor) {
        precondition(input.shape == g.inputShape, "max-pool input \(input.shape) for \(g)")
        precondition(output.shape == g.outputShape && indices.shape == g.outputShape,
                     "max-pool output \(output.shape) / indices \(indices.shape) for \(g)")
        let src = input.floats, dst = output.floats, idx = indices.int32s
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let k = g.kernel, s = g.stride, p = g.padding
        parallel.forEach(g.batch * g.channels, grain: 4) { planeIndex in
            let x = src + planeIndex * h * w
            let y = dst + planeIndex * oh * ow
            let yi = idx + planeIndex * oh * ow
            for oy in 0..<oh {
                let y0 = Swift.max(oy * s - p, 0), y1 = Swift.min(oy * s - p + k, h)
                for ox in 0..<ow {
                    let x0 = Swift.max(ox * s - p, 0), x1 = Swift.min(ox * s - p + k, w)
                    var best = -Float.infinity
                    var bestIndex = y0 * w + x0
                    for iy in y0..<y1 {
                        for ix in x0..<x1 {
                            let v = x[iy * w + ix]
                            // As PyTorch: a NaN wins, so it propagates instead of hiding.
                            if v > best || v.isNaN {
                                best = v
                                bestIndex = iy * w + ix
                            }
                        }
                    }
                    y[oy * ow + ox] = best
                    yi[oy * ow + ox] = Int32(bestIndex)
                }
            }
        }
    }

    public func maxPoolBackward(_ g: PoolGeometry, gradOutput: Tensor, indices: Tensor, gradInput: Tensor) {
        precondition(gradInput.shape == g.inputShape, "max-pool gradInput \(gradInput.shape) for \(g)")
        precondition(gradOutput.shape == g.outputShape && indices.shape == g.outputShape,
                     "max-pool gradOutput \(gradOutput.shape) / indices \(indices.shape) for \(g)")
        let dy = gradOutput.floats, dx = gradInput.floats, idx = indices.int32s
        let inPlane = g.height * g.width, outPlane = g.outHeight * g.outWidth
        parallel.forEach(g.batch * g.channels, grain: 4) { planeIndex in
            let d = dx + planeIndex * inPlane
            d.update(repeating: 0, count: inPlane)
            let gy = dy + planeIndex * outPlane, gi = idx + planeIndex * outPlane
            for j in 0..<outPlane { d[Int(gi[j])] += gy[j] }
        }
    }

    public func globalAvgPoolForward(_ input: Tensor, output: Tensor) {
        precondition(input.shape.count == 4 && output.shape == [input.shape[0], input.shape[1]],
                     "global average pool maps [N, C, H, W] to [N, C]; got \(input.shape) -> \(output.shape)")
        let plane = input.shape[2] * input.shape[3]
        let src = input.floats, dst = output.floats
        let scale = 1 / Float(plane)
        parallel.forEach(output.count, grain: 16) { i in
            dst[i] = sumFloats(src + i * plane, plane) * scale
        }
    }

    public func globalAvgPoolBackward(_ gradOutput: Tensor, gradInput: Tensor) {
        precondition(gradInput.shape.count == 4 && gradOutput.shape == [gradInput.shape[0], gradInput.shape[1]],
                     "global average pool backward: \(gradOutput.shape) -> \(gradInput.shape)")
        let plane = gradInput.shape[2] * gradInput.shape[3]
        let dy = gradOutput.floats, dx = gradInput.floats
        let scale = 1 / Float(plane)
        parallel.forEach(gradOutput.count, grain: 16) { i in
            (dx + i * plane).update(repeating: dy[i] * scale, count: plane)
        }
    }
}
