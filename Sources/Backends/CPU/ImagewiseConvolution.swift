import FacemineDevice

/// Convolution for large output planes: each thread takes whole images and multiplies the
/// weights by bands of that image's im2col matrix with single-threaded BLAS, writing straight
/// into the output. The band stays in L2, no thread waits for another, and nothing is
/// copied between layouts. Weight gradients are summed per thread, then across threads in a
/// fixed order, so results are deterministic for a given thread count.
extension CPUBackend {
    /// Bytes of im2col band per thread: half of a 1 MiB L2, the other half for BLAS's packing.
    static let bandBytes = 512 << 10

    func bandRows(_ g: ConvGeometry) -> Int {
        let bytesPerRow = g.gemmK * g.outWidth * MemoryLayout<Float>.stride
        return Swift.max(1, Swift.min(g.outHeight, CPUBackend.bandBytes / bytesPerRow))
    }

    func imagewiseConvForward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let plane = g.outHeight * g.outWidth, ow = g.outWidth, K = g.gemmK, M = g.outChannels
        let band = bandRows(g)
        let perThread = alignedCount(K * band * ow)
        let scratch = workspace.floats(.perThread, count: threads * perThread)
        parallel.forChunks(g.batch) { chunk, images in
            let columns = scratch + chunk * perThread
            for n in images {
                let image = input + n * g.inChannels * g.height * g.width
                let out = output + n * M * plane
                for o in 0..<M { (out + o * plane).update(repeating: bias?[o] ?? 0, count: plane) }
                for first in stride(from: 0, to: g.outHeight, by: band) {
                    let rows = first..<Swift.min(first + band, g.outHeight)
                    let width = rows.count * ow
                    im2colImage(g, image: image, rows: 0..<K, outputRows: rows, into: columns, ld: width)
                    sgemm(
                        transposeA: false, transposeB: false, m: M, n: width, k: K, alpha: 1,
                        a: weight, lda: K, b: columns, ldb: width, beta: 1, c: out + first * ow, ldc: plane)
                }
            }
        }
    }

    func imagewiseConvBackward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?
    ) {
        let plane = g.outHeight * g.outWidth, ow = g.outWidth, K = g.gemmK, M = g.outChannels
        let inPlane = g.inChannels * g.height * g.width
        let band = bandRows(g)
        let bandFloats = alignedCount(K * band * ow)
        let partialFloats = alignedCount(M * K + M)
        let perThread = 2 * bandFloats + partialFloats
        let chunks = parallel.chunkCount(g.batch)
        let scratch = workspace.floats(.perThread, count: chunks * perThread)
        parallel.forChunks(g.batch) { chunk, images in
            let columns = scratch + chunk * perThread
            let gradColumns = columns + bandFloats
            let partialWeight = gradColumns + bandFloats
            let partialBias = partialWeight + M * K
            partialWeight.update(repeating: 0, count: M * K + M)
            for n in images {
                let image = input + n * inPlane
                let dy = gradOutput + n * M * plane
                if gradBias != nil { for o in 0..<M { partialBias[o] += sumFloats(dy + o * plane, plane) } }
                let dx = gradInput.map { $0 + n * inPlane }
                dx?.update(repeating: 0, count: inPlane)
                for first in stride(from: 0, to: g.outHeight, by: band) {
                    let rows = first..<Swift.min(first + band, g.outHeight)
                    let width = rows.count * ow
                    im2colImage(g, image: image, rows: 0..<K, outputRows: rows, into: columns, ld: width)
                    // dW += dY[:, band] x columns^T
                    sgemm(
                        transposeA: false, transposeB: true, m: M, n: K, k: width, alpha: 1,
                        a: dy + first * ow, lda: plane, b: columns, ldb: width, beta: 1, c: partialWeight, ldc: K)
                    if let dx {
                        // dColumns = W^T x dY[:, band], then back onto the image.
                        sgemm(
                            transposeA: true, transposeB: false, m: K, n: width, k: M, alpha: 1,
                            a: weight, lda: K, b: dy + first * ow, ldb: plane, beta: 0, c: gradColumns, ldc: width)
                        col2imImage(g, columns: gradColumns, ld: width, outputRows: rows, into: dx)
                    }
                }
            }
        }
        let partials = scratch + 2 * bandFloats
        sumPartials(partials, stride: perThread, chunks: chunks, count: M * K, into: gradWeight)
        if let gradBias { sumPartials(partials + M * K, stride: perThread, chunks: chunks, count: M, into: gradBias) }
    }

    /// dst[i] = sum over chunks of partials[chunk * stride + i], chunks in order.
    func sumPartials(
        _ partials: UnsafePointer<Float>, stride: Int, chunks: Int, count: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        parallel.forRanges(count, grain: 4096) { r in
            for i in r {
                var total: Float = 0
                for chunk in 0..<chunks { total += partials[chunk * stride + i] }
                dst[i] = total
            }
        }
    }
}

/// Rounds a float count up to whole cache lines, so per-thread slices never share one.
@inline(__always)
func alignedCount(_ count: Int) -> Int { (count + 15) & ~15 }
