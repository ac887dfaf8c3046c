import FacemineDevice

extension CPUBackend {
    public func maxPoolForward(_ g: PoolGeometry, input: Tensor, output: Tensor, indices: Tensor) {
        precondition(input.shape == g.inputShape, "max-pool input \(input.shape) for \(g)")
        precondition(output.shape == g.outputShape && indices.shape == g.outputShape,
                     "max-pool output \(output.shape) / indices \(indices.shape) for \(g)")
        let src = input.floats, dst = output.floats, idx = indices.int32s
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let k = g.kernel, s = g.stride, p = g.padding
        // The 2x2 / stride 2 window of MyCNN, without padding: four loads per output, no
        // clipping. Same tie and NaN rules as the general loop below.
        let fast = k == 2 && s == 2 && p == 0
        parallel.forEach(g.batch * g.channels, grain: 4) { planeIndex in
            let x = src + planeIndex * h * w
            let y = dst + planeIndex * oh * ow
            let yi = idx + planeIndex * oh * ow
            if fast {
                for oy in 0..<oh {
                    let top = x + 2 * oy * w, bottom = top + w
                    var ox = 0
                    // Eight outputs at a time: the window's four corners as vectors.
                    while ox + 8 <= ow {
                        let t = UnsafeRawPointer(top + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                        let b = UnsafeRawPointer(bottom + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                        var best = t.evenHalf
                        var at = SIMD8<Int32>(repeating: Int32(2 * oy * w + 2 * ox)) &+ SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
                        let base = at
                        for (candidate, offset) in [(t.oddHalf, Int32(1)), (b.evenHalf, Int32(w)), (b.oddHalf, Int32(w + 1))] {
                            let wins = (candidate .> best) .| (candidate .!= candidate)
                            best.replace(with: candidate, where: wins)
                            at.replace(with: base &+ offset, where: wins)
                        }
                        UnsafeMutableRawPointer(y + oy * ow + ox).storeBytes(of: best, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(yi + oy * ow + ox).storeBytes(of: at, as: SIMD8<Int32>.self)
                        ox += 8
                    }
                    while ox < ow {
                        var best = top[2 * ox], at = 2 * oy * w + 2 * ox
                        for (candidate, offset) in [(top[2 * ox + 1], 1), (bottom[2 * ox], w), (bottom[2 * ox + 1], w + 1)]
                        where candidate > best || candidate.isNaN {
                            best = candidate
                            at = 2 * oy * w + 2 * ox + offset
                        }
                        y[oy * ow + ox] = best
                        yi[oy * ow + ox] = Int32(at)
                        ox += 1
                    }
                }
                return
            }
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
