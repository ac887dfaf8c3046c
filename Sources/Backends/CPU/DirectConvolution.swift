import CDirectConv
import FacemineDevice

/// Direct 3x3 convolution (padding 1) for 16-channel multiples on the planes 48x48 faces lead
/// to: stride 1 on 48x48 down to 2x2, stride 2 from 48x48, 24x24, 12x12, 6x6 and 3x3 (every
/// 3x3 convolution of both ResNet-18 stems and MyCNN's conv2). There
/// much of an im2col matrix is padding (5 of 9 taps on a 2x2 map, 21% on 6x6, 11% on 12x12),
/// BLAS multiplies those zeros too, and building the matrix costs a pass of its own. The C
/// kernels in Sources/System/CDirectConv sum only the taps inside the input, 16 output channels
/// to a vector and a few images (or a 6-pixel piece of a row) to a tile of accumulators; on one
/// core they run layer4's forward at 238 GFLOP/s of useful work where im2col + SGEMM reaches 88.
/// Work is split over 16-channel blocks (and images or in-channel pairs when blocks are fewer
/// than threads), so results do not depend on the thread count.
extension CPUBackend {
    /// AVX-512 here: the kernels' fast copy runs, and the backend picks `direct` by itself.
    static let directConvolutionIsFast = fm_direct_fast() != 0

    /// Tests: run the kernels' baseline copy even where AVX-512 is available, so both copies are
    /// checked on machines that have it.
    public static func useBaselineDirectKernels(_ yes: Bool) { fm_direct_use_baseline(yes ? 1 : 0) }

    /// The kernels' geometry code for a shape, or nil where `direct` does not apply.
    static func directGeometry(_ g: ConvGeometry) -> Int32? {
        guard g.kernel == 3, g.padding == 1, g.height == g.width, g.inChannels % 16 == 0, g.outChannels % 16 == 0 else {
            return nil
        }
        let code = fm_direct_geometry(Int32(g.width), Int32(g.outWidth), Int32(g.stride))
        return code >= 0 ? code : nil
    }

    /// Work items: 16-channel blocks, times slices of something else (images, or in channels for
    /// the weight gradient) when blocks alone are fewer than threads (layer1 has 4 blocks).
    /// Every item writes its own outputs, so results do not depend on the split.
    private func directItems(blocks: Int, slices: Int, _ body: (_ blocks: Range<Int>, _ slice: Int, _ of: Int) -> Void) {
        let perBlock = Swift.max(1, Swift.min(slices, (threads + blocks - 1) / blocks))
        if perBlock == 1 {
            parallel.forRanges(blocks) { body($0, 0, 1) }
        } else {
            parallel.forEach(blocks * perBlock) { item in body((item / perBlock)..<(item / perBlock + 1), item % perBlock, perBlock) }
        }
    }

    func directConvForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let geometry = CPUBackend.directGeometry(g)!
        let M = g.outChannels, C = g.inChannels, inPlane = g.height * g.width, plane = g.outHeight * g.outWidth
        let packed = workspace.floats(.packedWeights, count: M * C * 9)
        parallel.forRanges(M / 16) { blocks in
            fm_direct_pack(weight, packed, Int32(M), Int32(C), 0, Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
        directItems(blocks: M / 16, slices: g.batch) { blocks, slice, slices in
            let images = Parallel.range(slice, of: slices, count: g.batch)
            fm_direct_forward(geometry, input + images.lowerBound * C * inPlane, packed, output + images.lowerBound * M * plane,
                              Int32(images.count), Int32(C), Int32(M), Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
        guard let bias else { return }
        parallel.forEach(g.batch * M, grain: 64) { task in
            let b = bias[task % M], dst = output + task * plane
            for i in 0..<plane { dst[i] += b }
        }
    }

    func directConvBackward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                            gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?) {
        let geometry = CPUBackend.directGeometry(g)!
        let M = g.outChannels, C = g.inChannels, N = g.batch, plane = g.outHeight * g.outWidth
        let inPlane = g.height * g.width
        if let gradBias {
            parallel.forEach(M, grain: 16) { m in
                var total: Float = 0
                for n in 0..<N { total += sumFloats(gradOutput + (n * M + m) * plane, plane) }
                gradBias[m] = total
            }
        }
        // The weight gradient's operands in the orders its loops walk: dY in 16-channel blocks
        // [block][image][pixel][16]; on small planes, whose loops run over images innermost, x
        // with channels outermost [channel][image][pixel].
        let gradOutputBlocks = workspace.floats(.columns, count: N * plane * M)
        let xByChannel = fm_direct_weight_grad_wants_x_by_channel(geometry) != 0
        let inputByChannel = xByChannel ? workspace.floats(.matrix, count: N * C * inPlane) : nil
        parallel.forEach(N, grain: 1) { n in
            for m in 0..<M {
                let dst = gradOutputBlocks + ((m / 16) * N + n) * plane * 16 + m % 16
                for p in 0..<plane { dst[p * 16] = gradOutput[(n * M + m) * plane + p] }
            }
            guard let inputByChannel else { return }
            for c in 0..<C {
                (inputByChannel + (c * N + n) * inPlane).update(from: input + (n * C + c) * inPlane, count: inPlane)
            }
        }
        let packedGrad = workspace.floats(.packedWeightGrads, count: M * C * 9)
        directItems(blocks: M / 16, slices: C / 2) { blocks, slice, slices in
            let pairs = Parallel.range(slice, of: slices, count: C / 2)
            fm_direct_weight_grad(geometry, inputByChannel.map { UnsafePointer($0) } ?? input, gradOutputBlocks, packedGrad, Int32(N), Int32(C),
                                  Int32(2 * pairs.lowerBound), Int32(2 * pairs.upperBound),
                                  Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
        parallel.forRanges(M / 16) { blocks in
            fm_direct_unpack(packedGrad, gradWeight, Int32(M), Int32(C), Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
        guard let gradInput else { return }
        let packed = workspace.floats(.packedWeights, count: M * C * 9)
        parallel.forRanges(C / 16) { blocks in
            fm_direct_pack(weight, packed, Int32(M), Int32(C), 1, Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
        directItems(blocks: C / 16, slices: N) { blocks, slice, slices in
            let images = Parallel.range(slice, of: slices, count: N)
            fm_direct_input_grad(geometry, gradOutput + images.lowerBound * M * plane, packed, gradInput + images.lowerBound * C * inPlane,
                                 Int32(images.count), Int32(C), Int32(M), Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
    }
}
