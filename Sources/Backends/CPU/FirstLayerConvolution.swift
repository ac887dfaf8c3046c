import CDirectConv
import FacemineDevice

/// One-channel 3x3 first layers on 48x48 faces (MyCNN's conv1, ResNet-18's small stem), run by
/// the `direct` algorithm with kernels of their own (Sources/System/CDirectConv/first_layer_conv.c):
/// with one input channel the im2col product has K = 9, which no GEMM keeps busy (21-37% of
/// peak), and the other direct kernels' 16-channel vectors would spend more on writing each
/// output float apart than on its 9 products. These run vectors along a row of pixels instead.
/// The forward and input gradient split over images, the weight gradient over pairs of out
/// channels, so results do not depend on the thread count.
extension CPUBackend {
    private static let paddedPlane = Int(FM_FIRST_PADDED)

    static func firstLayerApplies(_ g: ConvGeometry) -> Bool {
        g.inChannels == 1 && g.kernel == 3 && g.padding == 1 && g.stride == 1
            && g.height == 48 && g.width == 48 && g.outChannels % 8 == 0
    }

    /// The bias goes in with the products (a pass of its own over MyCNN conv1's 18.9 MB output
    /// took longer than the convolution).
    func firstLayerForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let plane = g.height * g.width, M = g.outChannels
        let scratch = workspace.floats(.perThread, count: threads * Self.paddedPlane)
        parallel.forChunks(g.batch) { chunk, images in
            fm_first_forward(input + images.lowerBound * plane, weight, bias, output + images.lowerBound * M * plane,
                             Int32(images.count), Int32(M), scratch + chunk * Self.paddedPlane)
        }
    }

    func firstLayerBackward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                            gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?) {
        let plane = g.height * g.width, M = g.outChannels, N = g.batch
        let padded = workspace.floats(.matrix, count: N * Self.paddedPlane)
        parallel.forRanges(N) { images in
            fm_first_pad(input + images.lowerBound * plane, padded + images.lowerBound * Self.paddedPlane, Int32(images.count))
        }
        let sums = workspace.floats(.packedWeightGrads, count: M * Int(FM_FIRST_SUMS))
        parallel.forRanges(M / 2) { pairs in
            fm_first_weight_grad(padded, gradOutput, gradWeight, gradBias, sums, Int32(N), Int32(M),
                                 Int32(2 * pairs.lowerBound), Int32(2 * pairs.upperBound))
        }
        guard let gradInput else { return }
        parallel.forRanges(N) { images in
            fm_first_input_grad(gradOutput + images.lowerBound * M * plane, weight, gradInput + images.lowerBound * plane,
                                Int32(images.count), Int32(M))
        }
    }
}
