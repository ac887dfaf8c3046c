import FacemineDevice

/// Convolution for small output planes (deep layers, a few pixels per image): one image's
/// product would be too narrow for BLAS, so the im2col matrices of a chunk of images sit side
/// by side and one wide product, split over the threads, serves them all. The result is
/// channel-major across images and is scattered back to NCHW.
///
/// With planes of 4 to 36 pixels, walking rows and clipping them to the padding costs more
/// than the copy itself, so im2col and its adjoint go through a table of tap offsets instead.
extension CPUBackend {
    func imagesPerChunk(_ g: ConvGeometry) -> Int {
        let perImage = g.gemmK * g.outHeight * g.outWidth * MemoryLayout<Float>.stride
        return Swift.max(1, Swift.min(g.batch, columnChunkBytes / Swift.max(perImage, 1)))
    }

    func batchedConvForward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let plane = g.outHeight * g.outWidth, M = g.outChannels, K = g.gemmK
        let chunk = imagesPerChunk(g)
        let columns = workspace.floats(.columns, count: K * chunk * plane)
        let product = workspace.floats(.matrix, count: M * chunk * plane)
        let taps = tapTable(g)
        for first in stride(from: 0, to: g.batch, by: chunk) {
            let images = Swift.min(chunk, g.batch - first)
            let width = images * plane
            buildColumns(g, taps: taps, input: input, images: first..<(first + images), into: columns)
            parallelSGEMM(
                transposeA: false, transposeB: false, m: M, n: width, k: K, alpha: 1,
                a: weight, lda: K, b: columns, ldb: width, beta: 0, c: product, ldc: width)
            parallel.forEach(images * M, grain: 16) { task in
                let image = task / M, channel = task % M
                let src = product + channel * width + image * plane
                let dst = output + ((first + image) * M + channel) * plane
                let b = bias?[channel] ?? 0
                for i in 0..<plane { dst[i] = src[i] + b }
            }
        }
    }

    func batchedConvBackward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?
    ) {
        let plane = g.outHeight * g.outWidth, M = g.outChannels, K = g.gemmK
        let inPlane = g.inChannels * g.height * g.width
        let chunk = imagesPerChunk(g)
        let columns = workspace.floats(.columns, count: K * chunk * plane)
        let gathered = workspace.floats(.matrix, count: M * chunk * plane)
        let taps = tapTable(g)
        gradBias?.update(repeating: 0, count: M)
        for first in stride(from: 0, to: g.batch, by: chunk) {
            let images = Swift.min(chunk, g.batch - first)
            let width = images * plane
            // gradOutput of this chunk as [M, images * plane], the layout of the forward product.
            parallel.forEach(images * M, grain: 16) { task in
                let image = task / M, channel = task % M
                let src = gradOutput + ((first + image) * M + channel) * plane
                (gathered + channel * width + image * plane).update(from: src, count: plane)
            }
            if let gradBias {
                parallel.forEach(M, grain: 16) { channel in gradBias[channel] += sumFloats(gathered + channel * width, width) }
            }
            buildColumns(g, taps: taps, input: input, images: first..<(first + images), into: columns)
            // dW (+)= dY [M, width] x columns^T [width, K]
            parallelSGEMM(
                transposeA: false, transposeB: true, m: M, n: K, k: width, alpha: 1,
                a: gathered, lda: width, b: columns, ldb: width,
                beta: first == 0 ? 0 : 1, c: gradWeight, ldc: K)
            guard let gradInput else { continue }
            // dColumns [K, width] = W^T [K, M] x dY [M, width], reusing the column buffer.
            parallelSGEMM(
                transposeA: true, transposeB: false, m: K, n: width, k: M, alpha: 1,
                a: weight, lda: K, b: gathered, ldb: width, beta: 0, c: columns, ldc: width)
            let kk = g.kernel * g.kernel, inChannels = g.inChannels, planeIn = g.height * g.width
            parallel.forEach(images * inChannels, grain: 8) { task in
                let image = task / inChannels, c = task % inChannels
                let dx = gradInput + (first + image) * inPlane + c * planeIn
                dx.update(repeating: 0, count: planeIn)
                for t in 0..<kk {
                    let src = columns + (c * kk + t) * width + image * plane, offsets = taps + t * plane
                    for pixel in 0..<plane where offsets[pixel] >= 0 { dx[Int(offsets[pixel])] += src[pixel] }
                }
            }
        }
    }

    /// taps[(kh * k + kw) * plane + pixel] = the input offset inside a plane that tap (kh, kw)
    /// reads for output pixel `pixel`, or -1 where it falls in the padding.
    private func tapTable(_ g: ConvGeometry) -> UnsafeMutablePointer<Int32> {
        let k = g.kernel, oh = g.outHeight, ow = g.outWidth, plane = oh * ow
        let table = workspace.int32s(.taps, count: k * k * plane)
        for kh in 0..<k {
            for kw in 0..<k {
                let row = table + (kh * k + kw) * plane
                for oy in 0..<oh {
                    let iy = oy * g.stride - g.padding + kh
                    for ox in 0..<ow {
                        let ix = ox * g.stride - g.padding + kw
                        let inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                        row[oy * ow + ox] = inside ? Int32(iy * g.width + ix) : -1
                    }
                }
            }
        }
        return table
    }

    /// The chunk's column matrix [K, images * plane], images side by side.
    private func buildColumns(
        _ g: ConvGeometry, taps: UnsafePointer<Int32>, input: UnsafePointer<Float>,
        images: Range<Int>, into columns: UnsafeMutablePointer<Float>
    ) {
        let plane = g.outHeight * g.outWidth, width = images.count * plane
        let kk = g.kernel * g.kernel, inChannels = g.inChannels, planeIn = g.height * g.width
        parallel.forEach(images.count * inChannels, grain: 8) { task in
            let image = task / inChannels, c = task % inChannels
            let src = input + ((images.lowerBound + image) * inChannels + c) * planeIn
            for t in 0..<kk {
                let dst = columns + (c * kk + t) * width + image * plane, offsets = taps + t * plane
                for pixel in 0..<plane {
                    let offset = Int(offsets[pixel])
                    dst[pixel] = offset >= 0 ? src[offset] : 0
                }
            }
        }
    }
}
