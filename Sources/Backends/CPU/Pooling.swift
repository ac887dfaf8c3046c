import FacemineDevice

extension CPUBackend {
    public func maxPoolForward(_ g: PoolGeometry, input: Tensor, output: Tensor, indices: Tensor) {
        OpContract.maxPoolForward(g, input: input, output: output, indices: indices)
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
            // The ResNet stem's 3x3 / stride 2 / padding 1 window: eight outputs at a time where
            // the window's columns are inside the image (the last eight overlapping the ones
            // before), the general loop for the edges.
            let interior = k == 3 && s == 2 && p == 1 ? Self.maxPool3x3InteriorColumns(width: w, outWidth: ow) : 1..<1
            for oy in 0..<oh {
                let y0 = Swift.max(oy * s - p, 0), y1 = Swift.min(oy * s - p + k, h)
                var ox = interior.lowerBound
                while ox < interior.upperBound {
                    let start = Swift.min(ox, interior.upperBound - 8)
                    Self.maxPool3x3Eight(
                        x, width: w, rows: y0..<y1, outX: start,
                        into: y + oy * ow + start, indices: yi + oy * ow + start)
                    ox = start + 8
                }
                for ox in 0..<ow where !interior.contains(ox) {
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

    /// Output columns whose 3x3 / stride-2 window (input columns 2ox-1 ... 2ox+1) lies inside
    /// the row; empty when fewer than eight, which the vector code needs.
    static func maxPool3x3InteriorColumns(width w: Int, outWidth ow: Int) -> Range<Int> {
        let interior = 1..<Swift.min(ow, (w - 2) / 2 + 1)
        return interior.count >= 8 ? interior : 1..<1
    }

    /// Outputs outX ..< outX + 8 of one output row: over the window's rows, top to bottom, the
    /// columns 2ox-1, 2ox, 2ox+1 as the even and odd halves of 16-float loads from columns
    /// 2outX-1 and 2outX (whose last float is the last lane's right column). The candidates
    /// come in the general loop's order with its rule (strictly greater, or NaN, wins), so ties
    /// and NaNs pick the same index.
    @inline(__always)
    static func maxPool3x3Eight(
        _ x: UnsafeMutablePointer<Float>, width w: Int, rows: Range<Int>, outX: Int,
        into y: UnsafeMutablePointer<Float>, indices yi: UnsafeMutablePointer<Int32>
    ) {
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        var best = SIMD8<Float>(repeating: 0), at = SIMD8<Int32>(repeating: 0)
        var first = true
        for iy in rows {
            let left = 2 * outX - 1, row = x + iy * w
            let a = UnsafeRawPointer(row + left).loadUnaligned(as: SIMD16<Float>.self)
            let b = UnsafeRawPointer(row + left + 1).loadUnaligned(as: SIMD16<Float>.self)
            let base = SIMD8<Int32>(repeating: Int32(iy * w + left)) &+ lanes
            for (candidate, offset) in [(a.evenHalf, Int32(0)), (a.oddHalf, Int32(1)), (b.oddHalf, Int32(2))] {
                if first {
                    (best, at, first) = (candidate, base &+ offset, false)
                    continue
                }
                let wins = (candidate .> best) .| (candidate .!= candidate)
                best.replace(with: candidate, where: wins)
                at.replace(with: base &+ offset, where: wins)
            }
        }
        UnsafeMutableRawPointer(y).storeBytes(of: best, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(yi).storeBytes(of: at, as: SIMD8<Int32>.self)
    }

    public func maxPoolBackward(_ g: PoolGeometry, gradOutput: Tensor, indices: Tensor, gradInput: Tensor) {
        OpContract.maxPoolBackward(g, gradOutput: gradOutput, indices: indices, gradInput: gradInput)
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
        OpContract.globalAvgPoolForward(input, output: output)
        let plane = input.shape[2] * input.shape[3]
        let src = input.floats, dst = output.floats
        let scale = 1 / Float(plane)
        parallel.forEach(output.count, grain: 16) { i in
            dst[i] = sumFloats(src + i * plane, plane) * scale
        }
    }

    public func globalAvgPoolBackward(_ gradOutput: Tensor, gradInput: Tensor) {
        OpContract.globalAvgPoolBackward(gradOutput, gradInput: gradInput)
        let plane = gradInput.shape[2] * gradInput.shape[3]
        let dy = gradOutput.floats, dx = gradInput.floats
        let scale = 1 / Float(plane)
        parallel.forEach(gradOutput.count, grain: 16) { i in
            (dx + i * plane).update(repeating: dy[i] * scale, count: plane)
        }
    }
}
