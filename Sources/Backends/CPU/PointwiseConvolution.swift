import CPointwise
import CWideGEMM
import FacemineDevice

/// 1x1 convolutions without padding (ResNet-18's shortcut projections) as one product per
/// image, Y = W X, through the wide GEMM kernel: at stride 2, X is the subsampled input, the
/// only pixels the kernel reads, gathered straight from x as the kernel packs its panels (a
/// separate subsampling pass cost a third of the product's time, reading x from memory while
/// no multiply-adds ran). As im2col products over chunks of images they ran at 40-60%
/// of peak: the tap-table gather, the product into a scratch matrix and its scatter back to
/// NCHW each cost a pass; here the product writes the output planes in place. Threads take
/// whole images; weight gradients are summed per thread, then across threads in order, so
/// results are deterministic for a given thread count.
extension CPUBackend {
    /// Where it applies: a 1x1 kernel without padding, on planes of at least `pointwiseMinimumPlane`
    /// output pixels. Narrower products per image leave the kernel's vectors part empty: on 6x6
    /// outputs it measured slower than `batched`, on 3x3 and 2x2 than `direct`.
    static func pointwiseApplies(_ g: ConvGeometry) -> Bool {
        g.kernel == 1 && g.padding == 0 && g.outHeight * g.outWidth >= pointwiseMinimumPlane
    }
    static let pointwiseMinimumPlane = 64

    func pointwiseConvForward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let plane = g.outHeight * g.outWidth, inPlane = g.height * g.width
        let M = g.outChannels, C = g.inChannels
        let packed = workspace.floats(.packedA, count: WideGEMM.packedAFloats(m: M, k: C))
        WideGEMM.packA(weight, lda: C, transposed: false, m: M, k: C, alpha: 1, into: packed)
        parallel.forRanges(g.batch) { images in
            for n in images {
                // The next image's first panel is fetched during this one's last.
                let next = fm_next(b: .pixelsRead(by: g, in: input + (n + 1) * C * inPlane, transposed: false), n: plane, k: C)
                withPointer(to: next, if: n + 1 < images.upperBound) { then in
                    WideGEMM.multiply(
                        packedA: packed, m: M, n: plane, k: C,
                        b: .pixelsRead(by: g, in: input + n * C * inPlane, transposed: false), beta: 0, bias: bias,
                        c: output + n * M * plane, ldc: plane, then: then)
                }
            }
        }
    }

    func pointwiseConvBackward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?
    ) {
        let plane = g.outHeight * g.outWidth, inPlane = g.height * g.width
        let M = g.outChannels, C = g.inChannels
        // dX = W^T dY: W packed transposed once, for every image.
        let packedWT = workspace.floats(.packedA, count: WideGEMM.packedAFloats(m: C, k: M))
        if gradInput != nil { WideGEMM.packA(weight, lda: C, transposed: true, m: C, k: M, alpha: 1, into: packedWT) }
        // Per thread: the subsampled dX of one image, and partial sums of dW and the bias gradient.
        let columnFloats = alignedCount(C * plane), partialFloats = alignedCount(M * C + M)
        let perThread = columnFloats + partialFloats
        let chunks = parallel.chunkCount(g.batch)
        let scratch = workspace.floats(.perThread, count: chunks * perThread)
        parallel.forChunks(g.batch) { chunk, images in
            let dxs = scratch + chunk * perThread, partial = dxs + columnFloats
            partial.update(repeating: 0, count: M * C + M)
            for n in images {
                let dy = gradOutput + n * M * plane, x = input + n * C * inPlane
                let hasNext = n + 1 < images.upperBound
                // Each product fetches the start of the one after it, so none starts cold:
                // dX_n then dW_n (dY_n is in cache by then), dW_n then dX_n+1 (or dW_n+1).
                var weightProduct = fm_next(b: .pixelsRead(by: g, in: x, transposed: true), n: C, k: plane, rows: dy, lda: plane)
                if let gradInput {
                    let dx = gradInput + n * C * inPlane
                    let target = g.stride == 1 ? dx : dxs
                    WideGEMM.multiply(
                        packedA: packedWT, m: C, n: plane, k: M, b: .plain(dy, ld: plane), beta: 0, c: target, ldc: plane,
                        then: &weightProduct)
                    if g.stride != 1 { upsampleWithZeros(dxs, into: dx, g) }
                }
                let next =
                    gradInput != nil
                    ? fm_next(b: .plain(dy + M * plane, ld: plane), n: plane, k: M)
                    : fm_next(
                        b: .pixelsRead(by: g, in: x + C * inPlane, transposed: true), n: C, k: plane, rows: dy + M * plane,
                        lda: plane)
                // dW += dY X^T: dY's rows read in place, x gathered into the panels.
                withPointer(to: next, if: hasNext) { then in
                    WideGEMM.multiply(
                        packedA: nil, rows: dy, lda: plane, m: M, n: C, k: plane, b: weightProduct.b, beta: 1, c: partial,
                        ldc: C, then: then)
                }
                // dY is in cache now; ResNet-18's convolutions have no bias, so the sum is skipped
                // when nobody asks for it.
                if gradBias != nil {
                    for o in 0..<M { partial[M * C + o] += sumFloats(dy + o * plane, plane) }
                }
            }
        }
        let partials = scratch + columnFloats
        sumPartials(partials, stride: perThread, chunks: chunks, count: M * C, into: gradWeight)
        if let gradBias { sumPartials(partials + M * C, stride: perThread, chunks: chunks, count: M, into: gradBias) }
    }

    /// dx of one image from the gradient at the pixels the kernel read (`pointwise.h`), zero elsewhere.
    private func upsampleWithZeros(_ dxs: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        fm_upsample_with_zeros(dxs, dx, Int32(g.inChannels), Int32(g.height), Int32(g.width), Int32(g.stride))
    }
}

/// Runs `body` with a pointer to `value`, or with nil where `present` is false.
private func withPointer<T, R>(to value: T, if present: Bool, _ body: (UnsafePointer<T>?) -> R) -> R {
    withUnsafePointer(to: value) { present ? body($0) : body(nil) }
}
