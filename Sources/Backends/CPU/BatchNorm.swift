import FacemineDevice

/// Batch normalisation, one task per channel. Each channel's statistics are sums over N planes:
/// each plane is summed with vector accumulators in Float, the planes are combined in Double,
/// which keeps the mean and variance accurate for the largest batches without slowing the loop.
extension CPUBackend {
    public func batchNormTrainingForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVariance: Tensor,
        settings: BatchNormSettings, output: Tensor,
        savedMean: Tensor, savedInvStd: Tensor, epilogue: BatchNormEpilogue
    ) {
        let (n, c, plane) = OpContract.batchNorm(
            x, output: output, perChannel: [gamma, beta, runningMean, runningVariance, savedMean, savedInvStd])
        OpContract.batchNormEpilogue(epilogue, output: output)
        let src = x.floats, dst = output.floats, residual = epilogue.residual?.floats, relu = epilogue.relu
        let g = gamma.floats, b = beta.floats
        let rm = runningMean.floats, rv = runningVariance.floats
        let sm = savedMean.floats, si = savedInvStd.floats
        let count = Double(n * plane)
        let momentum = settings.momentum, eps = settings.epsilon
        parallel.forEach(c) { ch in
            var total = 0.0
            for i in 0..<n { total += Double(sumFloats(src + (i * c + ch) * plane, plane)) }
            let mean = Float(total / count)
            var squares = 0.0
            for i in 0..<n { squares += Double(squaredDeviationSum(src + (i * c + ch) * plane, plane, mean: mean)) }
            let variance = squares / count
            let invStd = Float(1 / (variance + Double(eps)).squareRoot())
            sm[ch] = mean
            si[ch] = invStd
            // PyTorch updates the running variance with the unbiased estimate.
            let unbiased = count > 1 ? variance * count / (count - 1) : variance
            rm[ch] = (1 - momentum) * rm[ch] + momentum * mean
            rv[ch] = (1 - momentum) * rv[ch] + momentum * Float(unbiased)
            let scale = g[ch] * invStd, shift = b[ch] - mean * scale
            for i in 0..<n {
                let off = (i * c + ch) * plane
                normalise(src + off, into: dst + off, plane, scale: scale, shift: shift, adding: residual.map { $0 + off }, relu: relu)
            }
        }
    }

    public func batchNormInferenceForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVariance: Tensor,
        epsilon: Float, output: Tensor, epilogue: BatchNormEpilogue
    ) {
        let (n, c, plane) = OpContract.batchNorm(x, output: output, perChannel: [gamma, beta, runningMean, runningVariance])
        OpContract.batchNormEpilogue(epilogue, output: output)
        let src = x.floats, dst = output.floats, residual = epilogue.residual?.floats, relu = epilogue.relu
        let g = gamma.floats, b = beta.floats, rm = runningMean.floats, rv = runningVariance.floats
        parallel.forEach(n * c, grain: 4) { task in
            let ch = task % c
            let scale = g[ch] / (rv[ch] + epsilon).squareRoot()
            let shift = b[ch] - rm[ch] * scale
            let off = task * plane
            normalise(src + off, into: dst + off, plane, scale: scale, shift: shift, adding: residual.map { $0 + off }, relu: relu)
        }
    }

    public func batchNormBackward(
        gradOutput: Tensor, input: Tensor, gamma: Tensor,
        savedMean: Tensor, savedInvStd: Tensor,
        gradInput: Tensor, gradGamma: Tensor, gradBeta: Tensor, reluOutput: Tensor?
    ) {
        let (n, c, plane) = OpContract.batchNorm(
            input, output: gradOutput, perChannel: [gamma, savedMean, savedInvStd, gradGamma, gradBeta])
        OpContract.batchNormBackward(input: input, gradInput: gradInput, reluOutput: reluOutput)
        // The ReLU's mask is applied plane by plane inside the channel's loop, while the plane is
        // in cache for the sums; planes too small for the vector loop (a 2x2 layer's) are masked
        // in one pass over the whole tensor first, which costs less than a call per plane.
        let maskFirst = reluOutput != nil && plane < 64
        if maskFirst, let reluOutput { reluBackward(gradOutput: gradOutput, output: reluOutput, gradInput: gradOutput) }
        let x = input.floats, dy = gradOutput.floats, dx = gradInput.floats, y = maskFirst ? nil : reluOutput?.floats
        let g = gamma.floats, sm = savedMean.floats, si = savedInvStd.floats
        let dg = gradGamma.floats, db = gradBeta.floats
        let count = Float(n * plane)
        parallel.forEach(c) { ch in
            let mean = sm[ch], invStd = si[ch]
            var sumDy = 0.0, sumDyCentred = 0.0
            for i in 0..<n {
                let off = (i * c + ch) * plane
                if let y { zeroWhereNotPositive(dy + off, y + off, plane) }
                sumDy += Double(sumFloats(dy + off, plane))
                sumDyCentred += Double(centredDotFloats(dy + off, x + off, plane, mean: mean))
            }
            // sum(dy * xhat) = invStd * sum(dy * (x - mean))
            let sumDyXhat = Float(sumDyCentred) * invStd
            dg[ch] = sumDyXhat
            db[ch] = Float(sumDy)
            // dx = gamma * invStd * (dy - mean(dy) - xhat * mean(dy * xhat))
            let k = g[ch] * invStd
            let meanDy = Float(sumDy) / count, meanDyXhat = sumDyXhat / count
            for i in 0..<n {
                let off = (i * c + ch) * plane
                for j in 0..<plane {
                    let xhat = (x[off + j] - mean) * invStd
                    dx[off + j] = k * (dy[off + j] - meanDy - xhat * meanDyXhat)
                }
            }
        }
    }
}

/// dst = src * scale + shift (+ residual), through a ReLU when asked: one plane of a batch
/// norm's output with its epilogue. `residual` may be `dst` itself. One plain loop per case,
/// which the compiler vectorises (a NaN stays NaN through the ReLU, as in `reluForward`).
@inline(__always)
private func normalise(
    _ src: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ count: Int,
    scale: Float, shift: Float, adding residual: UnsafeMutablePointer<Float>?, relu: Bool
) {
    switch (residual, relu) {
    case (nil, false):
        for j in 0..<count { dst[j] = src[j] * scale + shift }
    case (nil, true):
        for j in 0..<count {
            let v = src[j] * scale + shift
            dst[j] = v < 0 ? 0 : v
        }
    case (let r?, false):
        for j in 0..<count { dst[j] = src[j] * scale + shift + r[j] }
    case (let r?, true):
        for j in 0..<count {
            let v = src[j] * scale + shift + r[j]
            dst[j] = v < 0 ? 0 : v
        }
    }
}

/// The ReLU's backward pass in place: dy = 0 where the forward output y was not positive.
@inline(__always)
private func zeroWhereNotPositive(_ dy: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    var j = 0
    while j + 8 <= count {
        let yv = UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        let g = UnsafeRawPointer(dy + j).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dy + j).storeBytes(of: g.replacing(with: 0, where: yv .<= 0), as: SIMD8<Float>.self)
        j += 8
    }
    while j < count { if y[j] <= 0 { dy[j] = 0 }; j += 1 }
}
