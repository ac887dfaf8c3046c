/// Reductions written with explicit vector accumulators: plain loops cannot be vectorised by
/// the compiler without reassociating floating-point sums, which it must not do on its own.

@inline(__always)
func sumFloats(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
        acc0 += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        acc1 += UnsafeRawPointer(p + i + 8).loadUnaligned(as: SIMD8<Float>.self)
        i += 16
    }
    var total = (acc0 + acc1).sum()
    while i < n { total += p[i]; i += 1 }
    return total
}

/// Sum of (x - mean)^2, the second pass of a two-pass variance.
@inline(__always)
func squaredDeviationSum(_ p: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    let m = SIMD8<Float>(repeating: mean)
    var i = 0
    while i + 16 <= n {
        let d0 = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) - m
        let d1 = UnsafeRawPointer(p + i + 8).loadUnaligned(as: SIMD8<Float>.self) - m
        acc0 += d0 * d0
        acc1 += d1 * d1
        i += 16
    }
    var total = (acc0 + acc1).sum()
    while i < n { let d = p[i] - mean; total += d * d; i += 1 }
    return total
}

/// Sum of dy * (x - mean): batch norm's backward statistic, taken around the mean so no
/// digits cancel when |mean| is large next to the spread.
@inline(__always)
func centredDotFloats(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    let m = SIMD8<Float>(repeating: mean)
    var i = 0
    while i + 16 <= n {
        acc0 +=
            UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
            * (UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - m)
        acc1 +=
            UnsafeRawPointer(dy + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            * (UnsafeRawPointer(x + i + 8).loadUnaligned(as: SIMD8<Float>.self) - m)
        i += 16
    }
    var total = (acc0 + acc1).sum()
    while i < n { total += dy[i] * (x[i] - mean); i += 1 }
    return total
}
