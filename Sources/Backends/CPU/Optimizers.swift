import FacemineDevice
import Foundation

/// Optimizer updates as fused elementwise passes: each element's parameter, gradient and state
/// are read once and written once.
extension CPUBackend {
    public func sgdStep(
        parameter: Tensor, gradient: Tensor, momentumBuffer: Tensor?,
        settings s: SGDSettings, step: Int
    ) {
        OpContract.sgdStep(
            parameter: parameter, gradient: gradient, momentumBuffer: momentumBuffer, momentum: s.momentum, step: step)
        let p = parameter.floats, g = gradient.floats
        let lr = s.learningRate, wd = s.weightDecay, mu = s.momentum, damp = 1 - s.dampening, k = s.gradientScale
        guard s.momentum != 0 else {
            parallel.forRanges(parameter.count, grain: elementwiseGrain) { r in
                for i in r { p[i] -= lr * (k * g[i] + wd * p[i]) }
            }
            return
        }
        let momentumBuffer = momentumBuffer!  // OpContract.sgdStep checked it
        let m = momentumBuffer.floats
        let first = step == 1, nesterov = s.nesterov
        parallel.forRanges(parameter.count, grain: elementwiseGrain) { r in
            for i in r {
                let d = k * g[i] + wd * p[i]
                let buf = first ? d : mu * m[i] + damp * d
                m[i] = buf
                p[i] -= lr * (nesterov ? d + mu * buf : buf)
            }
        }
    }

    public func adamStep(
        parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
        settings s: AdamSettings, step: Int
    ) {
        OpContract.adamStep(
            parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
        let p = parameter.floats, g = gradient.floats, m = firstMoment.floats, v = secondMoment.floats
        let b1 = s.beta1, b2 = s.beta2, eps = s.epsilon, k = s.gradientScale
        let correction1 = 1 - Float(pow(Double(b1), Double(step)))
        let correction2Root = Float((1 - pow(Double(b2), Double(step))).squareRoot())
        let stepSize = s.learningRate / correction1
        let coupledDecay = s.decoupledWeightDecay ? 0 : s.weightDecay
        let shrink = s.decoupledWeightDecay ? 1 - s.learningRate * s.weightDecay : 1
        parallel.forRanges(parameter.count, grain: elementwiseGrain) { r in
            // Eight lanes at a time: written out, because the compiler keeps sqrt and division
            // scalar here.
            let kv = SIMD8<Float>(repeating: k), decay = SIMD8<Float>(repeating: coupledDecay)
            let b1v = SIMD8<Float>(repeating: b1), b2v = SIMD8<Float>(repeating: b2)
            let shrinkV = SIMD8<Float>(repeating: shrink), stepV = SIMD8<Float>(repeating: stepSize)
            let rootV = SIMD8<Float>(repeating: correction2Root), epsV = SIMD8<Float>(repeating: eps)
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let pv = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
                let d = kv * UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self) + decay * pv
                let mi = b1v * UnsafeRawPointer(m + i).loadUnaligned(as: SIMD8<Float>.self) + (1 - b1v) * d
                let vi = b2v * UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self) + (1 - b2v) * d * d
                UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: SIMD8<Float>.self)
                let updated = pv * shrinkV - stepV * mi / (vi.squareRoot() / rootV + epsV)
                UnsafeMutableRawPointer(p + i).storeBytes(of: updated, as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound {
                let d = k * g[i] + coupledDecay * p[i]
                let mi = b1 * m[i] + (1 - b1) * d
                let vi = b2 * v[i] + (1 - b2) * d * d
                m[i] = mi
                v[i] = vi
                p[i] = p[i] * shrink - stepSize * mi / (vi.squareRoot() / correction2Root + eps)
                i += 1
            }
        }
    }
}
