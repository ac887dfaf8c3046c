import FacemineDevice

/// One-channel first layers on 48x48 faces (MyCNN's conv1 and ResNet-18's small stem, 3x3; the
/// imagenet stem, 7x7 at stride 2), run by the `direct` algorithm with kernels of their own
/// (Sources/System/CFirstLayerConv, CStemConv; OneChannelKernels): with one input channel the
/// im2col product has K = 9 or 49, which no GEMM keeps busy (21-41% of peak), and the other
/// direct kernels' 16-channel vectors would spend more on writing each output float apart than
/// on its products. These run vectors along rows of pixels instead.
/// The forward and input gradient split over images, the weight gradient over pairs of out
/// channels, so results do not depend on the thread count.
extension CPUBackend {
    static func firstLayerApplies(_ g: ConvGeometry) -> Bool {
        g.inChannels == 1 && g.height == 48 && g.width == 48 && g.outChannels % 8 == 0
            && ((g.kernel == 3 && g.padding == 1 && g.stride == 1) || isStem(g))
    }

    /// The imagenet stem, 7x7 at stride 2 (`stem_conv.c`): the same idea, two output rows to 3 vectors.
    private static func isStem(_ g: ConvGeometry) -> Bool { g.kernel == 7 && g.padding == 3 && g.stride == 2 }

    private static func oneChannelKernels(_ g: ConvGeometry) -> OneChannelKernels {
        OneChannelKernels(stem: isStem(g), outChannels: g.outChannels)
    }

    /// The bias goes in with the products (a pass of its own over MyCNN conv1's 18.9 MB output
    /// took longer than the convolution).
    func firstLayerForward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let plane = g.height * g.width, outPlane = g.outHeight * g.outWidth, M = g.outChannels
        let kernels = Self.oneChannelKernels(g), perImage = kernels.arrangedFloats
        let scratch = workspace.floats(.perThread, count: threads * perImage)
        parallel.forChunks(g.batch) { chunk, images in
            let x = input + images.lowerBound * plane, y = output + images.lowerBound * M * outPlane
            kernels.forward(x, weight: weight, bias: bias, y, images: images.count, scratch: scratch + chunk * perImage)
        }
    }

    func firstLayerBackward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?
    ) {
        let plane = g.height * g.width, outPlane = g.outHeight * g.outWidth, M = g.outChannels, N = g.batch
        let kernels = Self.oneChannelKernels(g), perImage = kernels.arrangedFloats
        let arranged = workspace.floats(.matrix, count: N * perImage)
        parallel.forRanges(N) { images in
            kernels.arrange(
                input + images.lowerBound * plane, into: arranged + images.lowerBound * perImage, images: images.count)
        }
        let sums = workspace.floats(.packedWeightGrads, count: M * kernels.sumsPerChannel)
        parallel.forRanges(M / 2) { pairs in
            kernels.weightGrad(
                arranged: arranged, gradOutput: gradOutput, gradWeight: gradWeight, gradBias: gradBias, sums: sums,
                images: N, channels: (2 * pairs.lowerBound)..<(2 * pairs.upperBound))
        }
        guard let gradInput else { return }
        let scratch = workspace.floats(.perThread, count: threads * perImage)
        parallel.forChunks(N) { chunk, images in
            let dy = gradOutput + images.lowerBound * M * outPlane, dx = gradInput + images.lowerBound * plane
            kernels.inputGrad(dy, weight: weight, dx, images: images.count, scratch: scratch + chunk * perImage)
        }
    }
}
