import FacemineDevice
import Foundation

/// Plain reference implementations of the op contract, written for clarity rather than speed:
/// Double arithmetic, the textbook loop order, no tiling. Every backend is compared with these,
/// and these are themselves checked against finite differences (GradientCheckTests).
enum Reference {
    // MARK: GEMM

    static func gemm(_ op: GEMM, a: [Double], b: [Double], c: [Double]) -> [Double] {
        var out = c
        for batch in 0..<op.batchCount {
            let oa = batch * op.strideA, ob = batch * op.strideB, oc = batch * op.strideC
            for i in 0..<op.m {
                for j in 0..<op.n {
                    var acc = 0.0
                    for l in 0..<op.k {
                        let av = op.transposeA ? a[oa + l * op.m + i] : a[oa + i * op.k + l]
                        let bv = op.transposeB ? b[ob + j * op.k + l] : b[ob + l * op.n + j]
                        acc += av * bv
                    }
                    out[oc + i * op.n + j] = Double(op.alpha) * acc + Double(op.beta) * c[oc + i * op.n + j]
                }
            }
        }
        return out
    }

    // MARK: convolution

    /// Visits every (output element, weight element, input element) triple of a convolution.
    static func forEachTap(_ g: ConvGeometry, _ body: (_ out: Int, _ weight: Int, _ input: Int) -> Void) {
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        let out = ((n * g.outChannels + o) * g.outHeight + oy) * g.outWidth + ox
                        for c in 0..<g.inChannels {
                            for kh in 0..<g.kernel {
                                for kw in 0..<g.kernel {
                                    let iy = oy * g.stride - g.padding + kh
                                    let ix = ox * g.stride - g.padding + kw
                                    guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                    let weight = ((o * g.inChannels + c) * g.kernel + kh) * g.kernel + kw
                                    let input = ((n * g.inChannels + c) * g.height + iy) * g.width + ix
                                    body(out, weight, input)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func convForward(_ g: ConvGeometry, input: [Double], weight: [Double], bias: [Double]?) -> [Double] {
        var out = [Double](repeating: 0, count: Tensor.elementCount(g.outputShape))
        let plane = g.outHeight * g.outWidth
        if let bias { for i in out.indices { out[i] = bias[(i / plane) % g.outChannels] } }
        forEachTap(g) { o, w, i in out[o] += weight[w] * input[i] }
        return out
    }

    static func convBackward(_ g: ConvGeometry, input: [Double], weight: [Double], gradOutput: [Double])
        -> (input: [Double], weight: [Double], bias: [Double])
    {
        var dx = [Double](repeating: 0, count: input.count)
        var dw = [Double](repeating: 0, count: weight.count)
        var db = [Double](repeating: 0, count: g.outChannels)
        forEachTap(g) { o, w, i in
            dx[i] += weight[w] * gradOutput[o]
            dw[w] += input[i] * gradOutput[o]
        }
        let plane = g.outHeight * g.outWidth
        for i in gradOutput.indices { db[(i / plane) % g.outChannels] += gradOutput[i] }
        return (dx, dw, db)
    }

    // MARK: batch normalisation

    struct BatchNormForward {
        var output: [Double]
        var mean: [Double]
        var invStd: [Double]
        var runningMean: [Double]
        var runningVariance: [Double]
    }

    static func batchNormTraining(
        _ x: [Double], shape: [Int], gamma: [Double], beta: [Double],
        runningMean: [Double], runningVariance: [Double],
        momentum: Double, epsilon: Double
    ) -> BatchNormForward {
        let n = shape[0], c = shape[1], plane = x.count / (n * c)
        let m = Double(n * plane)
        var r = BatchNormForward(output: x, mean: [], invStd: [], runningMean: runningMean, runningVariance: runningVariance)
        for ch in 0..<c {
            let values = channelIndices(ch, n: n, c: c, plane: plane).map { x[$0] }
            let mean = values.reduce(0, +) / m
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / m
            let invStd = 1 / (variance + epsilon).squareRoot()
            r.mean.append(mean)
            r.invStd.append(invStd)
            r.runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean
            r.runningVariance[ch] = (1 - momentum) * runningVariance[ch] + momentum * variance * m / (m - 1)
            for i in channelIndices(ch, n: n, c: c, plane: plane) {
                r.output[i] = (x[i] - mean) * invStd * gamma[ch] + beta[ch]
            }
        }
        return r
    }

    static func batchNormInference(
        _ x: [Double], shape: [Int], gamma: [Double], beta: [Double],
        runningMean: [Double], runningVariance: [Double], epsilon: Double
    ) -> [Double] {
        let c = shape[1], plane = x.count / (shape[0] * c)
        return x.indices.map { i in
            let ch = (i / plane) % c
            return (x[i] - runningMean[ch]) / (runningVariance[ch] + epsilon).squareRoot() * gamma[ch] + beta[ch]
        }
    }

    /// The textbook backward pass, derived per element rather than in the fused form backends use.
    static func batchNormBackward(
        _ x: [Double], shape: [Int], gamma: [Double], gradOutput dy: [Double],
        epsilon: Double
    ) -> (input: [Double], gamma: [Double], beta: [Double]) {
        let n = shape[0], c = shape[1], plane = x.count / (n * c)
        let m = Double(n * plane)
        var dx = [Double](repeating: 0, count: x.count)
        var dgamma = [Double](repeating: 0, count: c), dbeta = [Double](repeating: 0, count: c)
        for ch in 0..<c {
            let idx = channelIndices(ch, n: n, c: c, plane: plane)
            let mean = idx.map { x[$0] }.reduce(0, +) / m
            let variance = idx.map { (x[$0] - mean) * (x[$0] - mean) }.reduce(0, +) / m
            let invStd = 1 / (variance + epsilon).squareRoot()
            // dL/dxhat, then through var and mean (Ioffe & Szegedy 2015, Algorithm backward).
            let dxhat = idx.map { dy[$0] * gamma[ch] }
            var dvar = 0.0, dmean = 0.0
            for (j, i) in idx.enumerated() { dvar += dxhat[j] * (x[i] - mean) * -0.5 * pow(invStd, 3) }
            for (j, i) in idx.enumerated() { dmean += -dxhat[j] * invStd + dvar * -2 * (x[i] - mean) / m }
            for (j, i) in idx.enumerated() {
                dx[i] = dxhat[j] * invStd + dvar * 2 * (x[i] - mean) / m + dmean / m
                dgamma[ch] += dy[i] * (x[i] - mean) * invStd
                dbeta[ch] += dy[i]
            }
        }
        return (dx, dgamma, dbeta)
    }

    static func channelIndices(_ ch: Int, n: Int, c: Int, plane: Int) -> [Int] {
        var indices: [Int] = []
        for i in 0..<n {
            let start = (i * c + ch) * plane
            indices += Array(start..<(start + plane))
        }
        return indices
    }

    // MARK: pooling

    static func maxPool(_ g: PoolGeometry, input: [Double]) -> (output: [Double], indices: [Int32]) {
        var out: [Double] = [], idx: [Int32] = []
        for planeIndex in 0..<(g.batch * g.channels) {
            let base = planeIndex * g.height * g.width
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    var best = -Double.infinity, bestIndex = -1
                    for kh in 0..<g.kernel {
                        for kw in 0..<g.kernel {
                            let iy = oy * g.stride - g.padding + kh, ix = ox * g.stride - g.padding + kw
                            guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                            if bestIndex < 0 || input[base + iy * g.width + ix] > best {
                                best = input[base + iy * g.width + ix]
                                bestIndex = iy * g.width + ix
                            }
                        }
                    }
                    out.append(best)
                    idx.append(Int32(bestIndex))
                }
            }
        }
        return (out, idx)
    }

    static func maxPoolBackward(_ g: PoolGeometry, gradOutput: [Double], indices: [Int32]) -> [Double] {
        var dx = [Double](repeating: 0, count: Tensor.elementCount(g.inputShape))
        let outPlane = g.outHeight * g.outWidth, inPlane = g.height * g.width
        for (j, d) in gradOutput.enumerated() { dx[(j / outPlane) * inPlane + Int(indices[j])] += d }
        return dx
    }

    static func globalAvgPool(_ x: [Double], shape: [Int]) -> [Double] {
        let plane = shape[2] * shape[3]
        return (0..<(shape[0] * shape[1])).map { p in x[(p * plane)..<((p + 1) * plane)].reduce(0, +) / Double(plane) }
    }

    // MARK: loss

    static func crossEntropy(
        logits: [Double], labels: [Int32], classes: Int, weights: [Double]?,
        smoothing: Double
    ) -> (loss: Double, grad: [Double]) {
        let n = labels.count
        let w = weights ?? [Double](repeating: 1, count: classes)
        let denominator = labels.map { w[Int($0)] }.reduce(0, +)
        var loss = 0.0
        var grad = [Double](repeating: 0, count: logits.count)
        for i in 0..<n {
            let row = Array(logits[(i * classes)..<((i + 1) * classes)])
            let maxLogit = row.max()!
            let logSum = maxLogit + log(row.map { exp($0 - maxLogit) }.reduce(0, +))
            let target = (0..<classes).map { c in
                ((c == Int(labels[i]) ? 1 - smoothing : 0) + smoothing / Double(classes)) * w[c]
            }
            let targetSum = target.reduce(0, +)
            for c in 0..<classes {
                loss += target[c] * (logSum - row[c])
                grad[i * classes + c] = (targetSum * exp(row[c] - logSum) - target[c]) / denominator
            }
        }
        return (loss / denominator, grad)
    }

    /// Focal loss by its definition; the gradient by central differences of the loss itself.
    static func focal(logits: [Double], labels: [Int32], classes: Int, weights: [Double]?, gamma: Double) -> (
        loss: Double, grad: [Double]
    ) {
        let w = weights ?? [Double](repeating: 1, count: classes)
        func value(_ z: [Double]) -> Double {
            var total = 0.0
            for i in labels.indices {
                let row = Array(z[(i * classes)..<((i + 1) * classes)]), y = Int(labels[i])
                let top = row.max()!
                let logP = row[y] - top - log(row.map { exp($0 - top) }.reduce(0, +))
                total += -w[y] * pow(1 - exp(logP), gamma) * logP
            }
            return total / labels.map { w[Int($0)] }.reduce(0, +)
        }
        let h = 1e-6
        let grad = logits.indices.map { j -> Double in
            var up = logits, down = logits
            up[j] += h
            down[j] -= h
            return (value(up) - value(down)) / (2 * h)
        }
        return (value(logits), grad)
    }

    // MARK: optimizers, exactly as torch.optim writes them

    static func sgd(_ p: [Double], _ g: [Double], buffer: [Double], s: SGDSettings, step: Int)
        -> (parameter: [Double], buffer: [Double])
    {
        var p = p, buf = buffer
        for i in p.indices {
            var d = Double(s.gradientScale) * g[i] + Double(s.weightDecay) * p[i]
            if s.momentum != 0 {
                buf[i] = step == 1 ? d : Double(s.momentum) * buf[i] + (1 - Double(s.dampening)) * d
                d = s.nesterov ? d + Double(s.momentum) * buf[i] : buf[i]
            }
            p[i] -= Double(s.learningRate) * d
        }
        return (p, buf)
    }

    static func adam(_ p: [Double], _ g: [Double], m: [Double], v: [Double], s: AdamSettings, step: Int)
        -> (parameter: [Double], m: [Double], v: [Double])
    {
        var p = p, m = m, v = v
        let lr = Double(s.learningRate), b1 = Double(s.beta1), b2 = Double(s.beta2)
        for i in p.indices {
            var d = Double(s.gradientScale) * g[i]
            if s.decoupledWeightDecay {
                p[i] *= 1 - lr * Double(s.weightDecay)
            } else {
                d += Double(s.weightDecay) * p[i]
            }
            m[i] = b1 * m[i] + (1 - b1) * d
            v[i] = b2 * v[i] + (1 - b2) * d * d
            let mHat = m[i] / (1 - pow(b1, Double(step)))
            let vHat = v[i] / (1 - pow(b2, Double(step)))
            p[i] -= lr * mHat / (vHat.squareRoot() + Double(s.epsilon))
        }
        return (p, m, v)
    }
}
