import CDirectConv
import FacemineDevice

/// One-channel first layers on 48x48 faces (MyCNN's conv1 and ResNet-18's small stem, 3x3; the
/// imagenet stem, 7x7 at stride 2), run by the `direct` algorithm with kernels of their own
/// (Sources/System/CDirectConv/first_layer_conv.c, stem_conv.c): with one input channel the
/// im2col product has K = 9 or 49, which no GEMM keeps busy (21-41% of peak), and the other
/// direct kernels' 16-channel vectors would spend more on writing each output float apart than
/// on its products. These run vectors along rows of pixels instead.
/// The forward and input gradient split over images, the weight gradient over pairs of out
/// channels, so results do not depend on the thread count.
extension CPUBackend {
    private static let paddedPlane = Int(FM_FIRST_PADDED)

    static func firstLayerApplies(_ g: ConvGeometry) -> Bool {
        g.inChannels == 1 && g.height == 48 && g.width == 48 && g.outChannels % 8 == 0
            && ((g.kernel == 3 && g.padding == 1 && g.stride == 1) || isStem(g))
    }

    /// The imagenet stem, 7x7 at stride 2 (`stem_conv.c`): the same idea, two output rows to 3 vectors.
    private static func isStem(_ g: ConvGeometry) -> Bool { g.kernel == 7 && g.padding == 3 && g.stride == 2 }

    /// The bias goes in with the products (a pass of its own over MyCNN conv1's 18.9 MB output
    /// took longer than the convolution).
    func firstLayerForward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let plane = g.height * g.width, outPlane = g.outHeight * g.outWidth, M = g.outChannels
        let stem = Self.isStem(g), perImage = stem ? Int(FM_STEM_TAPS) : Self.paddedPlane
        let scratch = workspace.floats(.perThread, count: threads * perImage)
        parallel.forChunks(g.batch) { chunk, images in
            let x = input + images.lowerBound * plane, y = output + images.lowerBound * M * outPlane
            if stem {
                fm_stem_forward(x, weight, bias, y, Int32(images.count), Int32(M), scratch + chunk * perImage)
            } else {
                fm_first_forward(x, weight, bias, y, Int32(images.count), Int32(M), scratch + chunk * perImage)
            }
        }
    }

    func firstLayerBackward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?
    ) {
        let plane = g.height * g.width, outPlane = g.outHeight * g.outWidth, M = g.outChannels, N = g.batch
        let stem = Self.isStem(g), perImage = stem ? Int(FM_STEM_TAPS) : Self.paddedPlane
        let arranged = workspace.floats(.matrix, count: N * perImage)
        parallel.forRanges(N) { images in
            let x = input + images.lowerBound * plane, copies = arranged + images.lowerBound * perImage
            if stem { fm_stem_arrange(x, copies, Int32(images.count)) } else { fm_first_pad(x, copies, Int32(images.count)) }
        }
        let sumsPerChannel = Int(stem ? FM_STEM_SUMS_PER_CHANNEL : FM_FIRST_SUMS)
        let sums = workspace.floats(.packedWeightGrads, count: M * sumsPerChannel)
        parallel.forRanges(M / 2) { pairs in
            let c0 = Int32(2 * pairs.lowerBound), c1 = Int32(2 * pairs.upperBound)
            if stem {
                fm_stem_weight_grad(arranged, gradOutput, gradWeight, gradBias, sums, Int32(N), Int32(M), c0, c1)
            } else {
                fm_first_weight_grad(arranged, gradOutput, gradWeight, gradBias, sums, Int32(N), Int32(M), c0, c1)
            }
        }
        guard let gradInput else { return }
        let scratch = workspace.floats(.perThread, count: threads * perImage)
        parallel.forChunks(N) { chunk, images in
            let dy = gradOutput + images.lowerBound * M * outPlane, dx = gradInput + images.lowerBound * plane
            if stem {
                fm_stem_input_grad(dy, weight, dx, Int32(images.count), Int32(M), scratch + chunk * perImage)
            } else {
                fm_first_input_grad(dy, weight, dx, Int32(images.count), Int32(M))
            }
        }
    }
}
