import FacemineDevice

/// Memory-bound maps: split into large contiguous ranges so each thread streams its own part.
let elementwiseGrain = 1 << 14

extension CPUBackend {
    public func reluForward(_ x: Tensor, output: Tensor) {
        OpContract.relu(x, output: output)
        let src = x.floats, dst = output.floats
        parallel.forRanges(x.count, grain: elementwiseGrain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dst + i).storeBytes(of: v.replacing(with: 0, where: v .< 0), as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound { dst[i] = Swift.max(src[i], 0); i += 1 }
        }
    }

    public func reluBackward(gradOutput: Tensor, output: Tensor, gradInput: Tensor) {
        OpContract.reluBackward(gradOutput: gradOutput, output: output, gradInput: gradInput)
        let dy = gradOutput.floats, y = output.floats, dx = gradInput.floats
        parallel.forRanges(output.count, grain: elementwiseGrain) { r in
            // Explicit vectors: dx may alias dy, which stops the compiler from vectorising.
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
                let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dx + i).storeBytes(of: g.replacing(with: 0, where: yv .<= 0), as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound { dx[i] = y[i] > 0 ? dy[i] : 0; i += 1 }
        }
    }

    public func add(_ a: Tensor, _ b: Tensor, output: Tensor) {
        OpContract.add(a, b, output: output)
        let x = a.floats, y = b.floats, z = output.floats
        parallel.forRanges(a.count, grain: elementwiseGrain) { r in
            for i in r { z[i] = x[i] + y[i] }
        }
    }

    public func axpby(alpha: Float, _ x: Tensor, beta: Float, _ y: Tensor) {
        OpContract.axpby(x, y)
        let src = x.floats, dst = y.floats
        parallel.forRanges(x.count, grain: elementwiseGrain) { r in
            for i in r { dst[i] = alpha * src[i] + beta * dst[i] }
        }
    }

    public func addBias(_ x: Tensor, bias: Tensor) {
        OpContract.addBias(x, bias: bias)
        let channels = x.shape[1], plane = x.count / (x.shape[0] * channels)
        let p = x.floats, b = bias.floats
        if plane == 1 {
            // [N, features]: one row per task.
            parallel.forEach(x.shape[0], grain: 16) { row in
                let r = p + row * channels
                for j in 0..<channels { r[j] += b[j] }
            }
        } else {
            parallel.forEach(x.shape[0] * channels, grain: 4) { task in
                let v = b[task % channels], r = p + task * plane
                for j in 0..<plane { r[j] += v }
            }
        }
    }

    public func biasGradient(_ gradOutput: Tensor, into gradBias: Tensor) {
        let shape = gradOutput.shape
        OpContract.biasGradient(shape, gradBias: gradBias)
        let n = shape[0], channels = shape[1], plane = gradOutput.count / (n * channels)
        let dy = gradOutput.floats, db = gradBias.floats
        parallel.forEach(channels, grain: 8) { ch in
            var total: Float = 0
            for i in 0..<n { total += sumFloats(dy + (i * channels + ch) * plane, plane) }
            db[ch] = total
        }
    }

    // MARK: dropout

    public func dropoutForward(_ x: Tensor, output: Tensor, probability: Float, seed: UInt64, step: UInt64) {
        OpContract.dropout(x, output: output, probability: probability)
        applyDropoutMask(x.floats, output.floats, count: x.count, probability: probability, seed: seed, step: step)
    }

    public func dropoutBackward(gradOutput: Tensor, gradInput: Tensor, probability: Float, seed: UInt64, step: UInt64) {
        OpContract.dropout(gradOutput, output: gradInput, probability: probability)
        applyDropoutMask(
            gradOutput.floats, gradInput.floats, count: gradOutput.count,
            probability: probability, seed: seed, step: step)
    }

    /// dst[i] = src[i] / (1 - p) where the Philox draw for i is >= p, else 0. Forward and
    /// backward are the same map, so the mask is never stored.
    private func applyDropoutMask(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, seed: UInt64, step: UInt64
    ) {
        let scale = 1 / (1 - p)
        let groups = (count + 3) / 4
        let key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        let stepLo = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: step))
        let stepHi = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: step >> 32))
        let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        let threshold = SIMD8<Float>(repeating: p), scaleVector = SIMD8<Float>(repeating: scale)
        // Eight Philox blocks (32 elements) per iteration; word w of group g covers element 4g + w.
        parallel.forRanges((groups + 7) / 8, grain: 1 << 9) { r in
            for block in r {
                let first = block * 8
                let g = SIMD8<UInt64>(repeating: UInt64(first)) &+ SIMD8<UInt64>(truncatingIfNeeded: lanes)
                let (w0, w1, w2, w3) = Philox.blocks(
                    SIMD8<UInt32>(truncatingIfNeeded: g), SIMD8<UInt32>(truncatingIfNeeded: g &>> 32),
                    stepLo, stepHi, key: key)
                for (w, words) in [w0, w1, w2, w3].enumerated() {
                    let u = SIMD8<Float>(words &>> 8) * (1.0 / 16_777_216.0)
                    let keep = u .>= threshold
                    for lane in 0..<8 {
                        let i = (first + lane) * 4 + w
                        if i < count { dst[i] = keep[lane] ? src[i] * scaleVector[lane] : 0 }
                    }
                }
            }
        }
    }
}
