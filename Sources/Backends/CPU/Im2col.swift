import FacemineDevice

/// The im2col matrix of one image: row r = (c, kh, kw) holds, for each output pixel
/// (oy, ox), the padded input value input[c, oy*s - p + kh, ox*s - p + kw].
/// These kernels work on one image and a band of output rows, so callers can tile over
/// pixels (to keep the matrix in cache) and give each thread whole images.

/// Writes rows `rows` of the matrix for output rows `outputRows`:
/// dst[(r - rows.lowerBound) * ld + (oy - outputRows.lowerBound) * outWidth + ox].
@inline(__always)
func im2colImage(
    _ g: ConvGeometry, image: UnsafePointer<Float>, rows: Range<Int>, outputRows: Range<Int>,
    into dst: UnsafeMutablePointer<Float>, ld: Int
) {
    let k = g.kernel, s = g.stride, p = g.padding
    let h = g.height, w = g.width, ow = g.outWidth
    for row in rows {
        let c = row / (k * k), kh = (row / k) % k, kw = row % k
        let plane = image + c * h * w
        let (lo, hi) = validRange(offset: kw, stride: s, padding: p, size: w, outSize: ow)
        var out = dst + (row - rows.lowerBound) * ld
        for oy in outputRows {
            let iy = oy * s - p + kh
            if iy < 0 || iy >= h {
                out.update(repeating: 0, count: ow)
            } else {
                let line = plane + iy * w - p + kw
                out.update(repeating: 0, count: lo)
                if s == 1 {
                    (out + lo).update(from: line + lo, count: hi - lo)
                } else {
                    for ox in lo..<hi { out[ox] = line[ox * s] }
                }
                (out + hi).update(repeating: 0, count: ow - hi)
            }
            out += ow
        }
    }
}

/// The adjoint of `im2colImage` over all rows: adds each matrix entry back into the input
/// position it was read from. `gradImage` accumulates; callers zero it first.
@inline(__always)
func col2imImage(
    _ g: ConvGeometry, columns: UnsafePointer<Float>, ld: Int, outputRows: Range<Int>,
    into gradImage: UnsafeMutablePointer<Float>
) {
    let k = g.kernel, s = g.stride, p = g.padding
    let h = g.height, w = g.width, ow = g.outWidth
    for row in 0..<g.gemmK {
        let c = row / (k * k), kh = (row / k) % k, kw = row % k
        let plane = gradImage + c * h * w
        let (lo, hi) = validRange(offset: kw, stride: s, padding: p, size: w, outSize: ow)
        if lo >= hi { continue }
        var src = columns + row * ld
        for oy in outputRows {
            let iy = oy * s - p + kh
            if iy >= 0 && iy < h {
                let line = plane + iy * w - p + kw
                if s == 1 {
                    for ox in lo..<hi { line[ox] += src[ox] }
                } else {
                    for ox in lo..<hi { line[ox * s] += src[ox] }
                }
            }
            src += ow
        }
    }
}

/// The output columns [lo, hi) for which input column x*stride - padding + offset is inside 0..<size.
@inline(__always)
func validRange(offset: Int, stride: Int, padding: Int, size: Int, outSize: Int) -> (Int, Int) {
    // x*stride + offset - padding >= 0  <=>  x >= ceil((padding - offset) / stride)
    let start = padding - offset
    let lo = Swift.min(start <= 0 ? 0 : (start + stride - 1) / stride, outSize)
    // x*stride + offset - padding <= size - 1  <=>  x <= floor((size - 1 + padding - offset) / stride)
    let end = size - 1 + padding - offset
    let hi = end < 0 ? 0 : Swift.min(end / stride + 1, outSize)
    return (lo, Swift.max(hi, lo))
}
