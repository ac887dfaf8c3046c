import FacemineDevice

/// Direct convolution for layers with a short reduction (few input channels, e.g. the
/// one-channel face input). Each task owns one output plane (forward), one output channel's
/// weights (grad-weight) or one input plane (grad-input), so no two threads write the same
/// memory and every sum runs in a fixed order.
extension CPUBackend {
    func directConvForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let k = g.kernel, s = g.stride, p = g.padding
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let cin = g.inChannels, cout = g.outChannels
        parallel.forEach(g.batch * cout, grain: 2) { task in
            let n = task / cout, o = task % cout
            let out = output + task * oh * ow
            out.update(repeating: bias?[o] ?? 0, count: oh * ow)
            for c in 0..<cin {
                let src = input + (n * cin + c) * h * w
                let wts = weight + (o * cin + c) * k * k
                for oy in 0..<oh {
                    let row = out + oy * ow
                    for kh in 0..<k {
                        let iy = oy * s - p + kh
                        if iy < 0 || iy >= h { continue }
                        for kw in 0..<k {
                            let wv = wts[kh * k + kw]
                            let (lo, hi) = validRange(offset: kw, stride: s, padding: p, size: w, outSize: ow)
                            let line = src + iy * w - p + kw
                            if s == 1 {
                                for ox in lo..<hi { row[ox] += wv * line[ox] }
                            } else {
                                for ox in lo..<hi { row[ox] += wv * line[ox * s] }
                            }
                        }
                    }
                }
            }
        }
    }

    func directConvBackward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                            gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?) {
        let k = g.kernel, s = g.stride, p = g.padding
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let cin = g.inChannels, cout = g.outChannels, batch = g.batch
        // Weight and bias gradients: one task per output channel.
        parallel.forEach(cout) { o in
            let dw = gradWeight + o * cin * k * k
            var biasSum: Float = 0
            for i in 0..<(cin * k * k) { dw[i] = 0 }
            for n in 0..<batch {
                let dy = gradOutput + (n * cout + o) * oh * ow
                if gradBias != nil { biasSum += sumFloats(dy, oh * ow) }
                for c in 0..<cin {
                    let src = input + (n * cin + c) * h * w
                    for kh in 0..<k {
                        for kw in 0..<k {
                            let (lo, hi) = validRange(offset: kw, stride: s, padding: p, size: w, outSize: ow)
                            if lo >= hi { continue }
                            var acc: Float = 0
                            for oy in 0..<oh {
                                let iy = oy * s - p + kh
                                if iy < 0 || iy >= h { continue }
                                let line = src + iy * w - p + kw
                                let row = dy + oy * ow
                                if s == 1 {
                                    acc += dotFloats(row + lo, line + lo, hi - lo)
                                } else {
                                    for ox in lo..<hi { acc += row[ox] * line[ox * s] }
                                }
                            }
                            dw[(c * k + kh) * k + kw] += acc
                        }
                    }
                }
            }
            gradBias?[o] = biasSum
        }
        guard let gradInput else { return }
        // Input gradient: one task per input plane, scattering every output channel into it.
        parallel.forEach(batch * cin, grain: 2) { task in
            let n = task / cin, c = task % cin
            let dx = gradInput + task * h * w
            dx.update(repeating: 0, count: h * w)
            for o in 0..<cout {
                let dy = gradOutput + (n * cout + o) * oh * ow
                let wts = weight + (o * cin + c) * k * k
                for oy in 0..<oh {
                    let row = dy + oy * ow
                    for kh in 0..<k {
                        let iy = oy * s - p + kh
                        if iy < 0 || iy >= h { continue }
                        for kw in 0..<k {
                            let wv = wts[kh * k + kw]
                            let (lo, hi) = validRange(offset: kw, stride: s, padding: p, size: w, outSize: ow)
                            let line = dx + iy * w - p + kw
                            if s == 1 {
                                for ox in lo..<hi { line[ox] += wv * row[ox] }
                            } else {
                                for ox in lo..<hi { line[ox * s] += wv * row[ox] }
                            }
                        }
                    }
                }
            }
        }
    }
}
