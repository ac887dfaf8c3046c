import FacemineDevice

/// Batch normalisation, one task per channel. Each channel's statistics are sums over N planes:
/// each plane is summed with vector accumulators in Float, the planes are combined in Double,
/// which keeps the mean and variance accurate for the largest batches without slowing the loop.
extension CPUBackend {
    public func batchNormTrainingForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVariance: Tensor,
        settings: BatchNormSettings, output: Tensor,
        savedMean: Tensor, savedInvStd: Tensor
    ) {
        let (n, c, plane) = OpContract.batchNorm(
            x, output: output, perChannel: [gamma, beta, runningMean, runningVariance, savedMean, savedInvStd])
        let src = x.floats, dst = output.floats
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
                for j in 0..<plane { dst[off + j] = src[off + j] * scale + shift }
            }
        }
    }

    public func batchNormInferenceForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVariance: Tensor,
        epsilon: Float, output: Tensor
    ) {
        let (n, c, plane) = OpContract.batchNorm(x, output: output, perChannel: [gamma, beta, runningMean, runningVariance])
        let src = x.floats, dst = output.floats
        let g = gamma.floats, b = beta.floats, rm = runningMean.floats, rv = runningVariance.floats
        parallel.forEach(n * c, grain: 4) { task in
            let ch = task % c
            let scale = g[ch] / (rv[ch] + epsilon).squareRoot()
            let shift = b[ch] - rm[ch] * scale
            let off = task * plane
            for j in 0..<plane { dst[off + j] = src[off + j] * scale + shift }
        }
    }

    public func batchNormBackward(
        gradOutput: Tensor, input: Tensor, gamma: Tensor,
        savedMean: Tensor, savedInvStd: Tensor,
        gradInput: Tensor, gradGamma: Tensor, gradBeta: Tensor
    ) {
        let (n, c, plane) = OpContract.batchNorm(
            input, output: gradOutput, perChannel: [gamma, savedMean, savedInvStd, gradGamma, gradBeta])
        OpContract.batchNormBackward(input: input, gradInput: gradInput)
        let x = input.floats, dy = gradOutput.floats, dx = gradInput.floats
        let g = gamma.floats, sm = savedMean.floats, si = savedInvStd.floats
        let dg = gradGamma.floats, db = gradBeta.floats
        let count = Float(n * plane)
        parallel.forEach(c) { ch in
            let mean = sm[ch], invStd = si[ch]
            var sumDy = 0.0, sumDyCentred = 0.0
            for i in 0..<n {
                let off = (i * c + ch) * plane
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
