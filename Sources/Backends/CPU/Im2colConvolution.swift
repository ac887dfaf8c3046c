import FacemineDevice

/// Convolution as GEMM over the im2col matrix, batched over a chunk of images at a time so
/// that BLAS sees one wide product (N = images x output pixels) while the column matrix stays
/// small enough to live in the last-level cache.
extension CPUBackend {
    func imagesPerChunk(_ g: ConvGeometry) -> Int {
        let perImage = g.gemmK * g.outHeight * g.outWidth * MemoryLayout<Float>.stride
        return Swift.max(1, Swift.min(g.batch, columnChunkBytes / Swift.max(perImage, 1)))
    }

    func im2colConvForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let plane = g.outHeight * g.outWidth
        let chunk = imagesPerChunk(g)
        let columns = workspace.floats(.columns, count: g.gemmK * chunk * plane)
        let product = workspace.floats(.matrix, count: g.outChannels * chunk * plane)
        var first = 0
        while first < g.batch {
            let images = Swift.min(chunk, g.batch - first)
            let width = images * plane
            im2col(g, input: input, firstImage: first, images: images, columns: columns)
            sgemm(transposeA: false, transposeB: false, m: g.outChannels, n: width, k: g.gemmK,
                  alpha: 1, a: weight, lda: g.gemmK, b: columns, ldb: width, beta: 0, c: product, ldc: width)
            // product is [outChannels, images * plane]; scatter to NCHW and add the bias.
            let outChannels = g.outChannels
            parallel.forEach(images * outChannels, grain: 4) { task in
                let image = task / outChannels, channel = task % outChannels
                let src = product + channel * width + image * plane
                let dst = output + ((first + image) * outChannels + channel) * plane
                let b = bias?[channel] ?? 0
                for i in 0..<plane { dst[i] = src[i] + b }
            }
            first += images
        }
    }

    func im2colConvBackward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                            gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?) {
        let plane = g.outHeight * g.outWidth
        let chunk = imagesPerChunk(g)
        let columns = workspace.floats(.columns, count: g.gemmK * chunk * plane)
        let gathered = workspace.floats(.matrix, count: g.outChannels * chunk * plane)
        let outChannels = g.outChannels
        if let gradBias { gradBias.update(repeating: 0, count: outChannels) }
        var first = 0
        while first < g.batch {
            let images = Swift.min(chunk, g.batch - first)
            let width = images * plane
            // gradOutput of this chunk as [outChannels, images * plane], the layout of the forward product.
            parallel.forEach(images * outChannels, grain: 4) { task in
                let image = task / outChannels, channel = task % outChannels
                let src = gradOutput + ((first + image) * outChannels + channel) * plane
                (gathered + channel * width + image * plane).update(from: src, count: plane)
            }
            if let gradBias {
                parallel.forEach(outChannels, grain: 8) { channel in
                    gradBias[channel] += sumFloats(gathered + channel * width, width)
                }
            }
            im2col(g, input: input, firstImage: first, images: images, columns: columns)
            // dW (+)= dY [outC, width] x columns^T [width, K]
            sgemm(transposeA: false, transposeB: true, m: outChannels, n: g.gemmK, k: width,
                  alpha: 1, a: gathered, lda: width, b: columns, ldb: width,
                  beta: first == 0 ? 0 : 1, c: gradWeight, ldc: g.gemmK)
            if let gradInput {
                // dColumns [K, width] = W^T [K, outC] x dY [outC, width], reusing the column buffer.
                sgemm(transposeA: true, transposeB: false, m: g.gemmK, n: width, k: outChannels,
                      alpha: 1, a: weight, lda: g.gemmK, b: gathered, ldb: width, beta: 0, c: columns, ldc: width)
                col2im(g, columns: columns, firstImage: first, images: images, gradInput: gradInput)
            }
            first += images
        }
    }

    /// columns[(c, kh, kw), image * plane + oy * outWidth + ox] = padded input value.
    func im2col(_ g: ConvGeometry, input: UnsafePointer<Float>, firstImage: Int, images: Int,
                columns: UnsafeMutablePointer<Float>) {
        let k = g.kernel, s = g.stride, p = g.padding
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let plane = oh * ow, width = images * plane
        parallel.forEach(g.gemmK * images, grain: 4) { task in
            let row = task / images, image = task % images
            let c = row / (k * k), kh = (row / k) % k, kw = row % k
            let src = input + ((firstImage + image) * g.inChannels + c) * h * w
            let dst = columns + row * width + image * plane
            let (lo, hi) = validRange(offset: kw, stride: s, padding: p, size: w, outSize: ow)
            for oy in 0..<oh {
                let iy = oy * s - p + kh
                let out = dst + oy * ow
                if iy < 0 || iy >= h {
                    out.update(repeating: 0, count: ow)
                    continue
                }
                let line = src + iy * w - p + kw
                out.update(repeating: 0, count: lo)
                if s == 1 {
                    (out + lo).update(from: line + lo, count: hi - lo)
                } else {
                    for ox in lo..<hi { out[ox] = line[ox * s] }
                }
                (out + hi).update(repeating: 0, count: ow - hi)
            }
        }
    }

    /// The adjoint of im2col: each input plane sums the column rows that read from it.
    func col2im(_ g: ConvGeometry, columns: UnsafePointer<Float>, firstImage: Int, images: Int,
                gradInput: UnsafeMutablePointer<Float>) {
        let k = g.kernel, s = g.stride, p = g.padding
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let plane = oh * ow, width = images * plane
        let channels = g.inChannels
        parallel.forEach(images * channels, grain: 2) { task in
            let image = task / channels, c = task % channels
            let dst = gradInput + ((firstImage + image) * channels + c) * h * w
            dst.update(repeating: 0, count: h * w)
            for kh in 0..<k {
                for kw in 0..<k {
                    let row = (c * k + kh) * k + kw
                    let src = columns + row * width + image * plane
                    let (lo, hi) = validRange(offset: kw, stride: s, padding: p, size: w, outSize: ow)
                    if lo >= hi { continue }
                    for oy in 0..<oh {
                        let iy = oy * s - p + kh
                        if iy < 0 || iy >= h { continue }
                        let line = dst + iy * w - p + kw
                        let col = src + oy * ow
                        if s == 1 {
                            for ox in lo..<hi { line[ox] += col[ox] }
                        } else {
                            for ox in lo..<hi { line[ox * s] += col[ox] }
                        }
                    }
                }
            }
        }
    }
}
