import CDirectConv
import FacemineDevice

/// Direct 3x3 convolution (padding 1) for 16-channel multiples on the planes 48x48 faces lead
/// to: stride 1 on 48x48 down to 2x2, stride 2 from 48x48, 24x24, 12x12, 6x6 and 3x3 (every
/// 3x3 convolution of both ResNet-18 stems and MyCNN's conv2), and the 1x1 stride-2 shortcuts
/// from 6x6 and 3x3 inputs (their im2col matrix is a subsampled copy of x, and the copy and
/// the scatter back to NCHW cost more than the product). For the 3x3 kernels
/// much of an im2col matrix is padding (5 of 9 taps on a 2x2 map, 21% on 6x6, 11% on 12x12),
/// BLAS multiplies those zeros too, and building the matrix costs a pass of its own. The C
/// kernels in Sources/System/CDirectConv sum only the taps inside the input, 16 output channels
/// to a vector and a few images (or a 6-pixel piece of a row) to a tile of accumulators
/// (how much faster than im2col + SGEMM: docs/BENCHMARKS.md, "CPU kernel notes").
/// Work is split over 16-channel blocks (and images or in-channel pairs when blocks are fewer
/// than threads), so results do not depend on the thread count.
extension CPUBackend {
    /// AVX-512 here: the kernels' fast copy runs, and the backend picks `direct` by itself.
    static let directConvolutionIsFast = fm_direct_fast() != 0

    /// Tests: run the kernels' baseline copy even where AVX-512 is available, so both copies are
    /// checked on machines that have it. Per calling thread (the backend's workers follow it in
    /// its loops), so tests running beside one that sets it keep the AVX-512 copy.
    public static func useBaselineDirectKernels(_ yes: Bool) { fm_direct_use_baseline(yes ? 1 : 0) }

    /// The direct kernels' geometries, as the C table (direct_geometries.h) names them: what
    /// the tests check they cover.
    public static var directGeometries: [(name: String, kernel: Int, inWidth: Int, outWidth: Int, stride: Int)] {
        (0..<fm_direct_geometry_count()).map { g in
            var kernel: Int32 = 0, inWidth: Int32 = 0, outWidth: Int32 = 0, stride: Int32 = 0
            let name = String(cString: fm_direct_geometry_shape(g, &kernel, &inWidth, &outWidth, &stride))
            return (name, Int(kernel), Int(inWidth), Int(outWidth), Int(stride))
        }
    }

    /// The kernels' geometry code for a shape, or nil where `direct` does not apply.
    static func directGeometry(_ g: ConvGeometry) -> Int32? {
        guard g.padding == (g.kernel - 1) / 2, g.height == g.width, g.inChannels % 16 == 0, g.outChannels % 16 == 0 else {
            return nil
        }
        let code = fm_direct_geometry(Int32(g.kernel), Int32(g.width), Int32(g.outWidth), Int32(g.stride))
        return code >= 0 ? code : nil
    }

    /// Work items: 16-channel blocks, times slices of something else (images, or in channels for
    /// the weight gradient) when blocks alone are fewer than threads (layer1 has 4 blocks).
    /// Every item writes its own outputs, so results do not depend on the split.
    private func directItems(
        blocks: Int, slices: Int, _ body: (_ chunk: Int, _ blocks: Range<Int>, _ slice: Int, _ of: Int) -> Void
    ) {
        let perBlock = directSlicesPerBlock(blocks: blocks, slices: slices)
        if perBlock == 1 {
            parallel.forChunks(blocks) { chunk, range in body(chunk, range, 0, 1) }
        } else {
            parallel.forChunks(blocks * perBlock) { chunk, items in
                for item in items { body(chunk, (item / perBlock)..<(item / perBlock + 1), item % perBlock, perBlock) }
            }
        }
    }

    private func directSlicesPerBlock(blocks: Int, slices: Int) -> Int {
        Swift.max(1, Swift.min(slices, (threads + blocks - 1) / blocks))
    }

    /// Forward and input gradient. Where the batch's input is large next to the weights (planes
    /// of 12x12 and more with few channels: 38 MB of input against 150-600 KB of weights on
    /// 48x48 and 24x24), the weights are packed once and each thread takes a share of the
    /// images through every block, so the input is read from memory once, not once per block.
    /// Elsewhere each thread packs one 16-channel block of weights at a time into its own buffer
    /// (C x 9 x 16 floats: 295 KB at 512 channels, so it stays in L2) just before using it;
    /// packing every block first wrote them all out (9 MB for layer4) and read them back from
    /// the last-level cache. `run(packed, blocks, images)` runs some blocks on some images.
    private func directBlockwise(
        blocks: Int, blockFloats: Int, images: Int, inputFloats: Int, transposed: Bool,
        weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, taps: Int32,
        _ run: (_ packed: UnsafePointer<Float>, _ blocks: Range<Int>, _ images: Range<Int>) -> Void
    ) {
        let pack = { (into: UnsafeMutablePointer<Float>, blocks: Range<Int>) in
            fm_direct_pack(
                weight, into, Int32(outChannels), Int32(inChannels), taps, transposed ? 1 : 0,
                Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
        if inputFloats >= 8 * blocks * blockFloats && images >= threads {
            let packed = workspace.floats(.packedWeights, count: blocks * blockFloats)
            parallel.forRanges(blocks) { range in pack(packed + range.lowerBound * blockFloats, range) }
            parallel.forRanges(images) { range in run(packed, 0..<blocks, range) }
            return
        }
        let buffers = workspace.floats(.packedWeights, count: threads * blockFloats)
        directItems(blocks: blocks, slices: images) { chunk, range, slice, slices in
            let packed = buffers + chunk * blockFloats
            let imageRange = Parallel.range(slice, of: slices, count: images)
            for block in range {
                pack(packed, block..<(block + 1))
                run(packed, block..<(block + 1), imageRange)
            }
        }
    }

    func directConvForward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let M = g.outChannels, plane = g.outHeight * g.outWidth
        if CPUBackend.firstLayerApplies(g) {
            return firstLayerForward(g, input: input, weight: weight, bias: bias, output: output)
        }
        blockedConvForward(g, input: input, weight: weight, output: output)
        guard let bias else { return }
        parallel.forEach(g.batch * M, grain: 64) { task in
            let b = bias[task % M], dst = output + task * plane
            for i in 0..<plane { dst[i] += b }
        }
    }

    private func blockedConvForward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let geometry = CPUBackend.directGeometry(g)!, taps = fm_direct_taps(geometry)
        let M = g.outChannels, C = g.inChannels, inPlane = g.height * g.width, plane = g.outHeight * g.outWidth
        directBlockwise(
            blocks: M / 16, blockFloats: C * Int(taps) * 16, images: g.batch, inputFloats: g.batch * C * inPlane,
            transposed: false, weight: weight, outChannels: M, inChannels: C, taps: taps
        ) { packed, blocks, images in
            fm_direct_forward(
                geometry, input + images.lowerBound * C * inPlane, packed, output + images.lowerBound * M * plane,
                Int32(images.count), Int32(C), Int32(M), Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
    }

    func directConvBackward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?
    ) {
        if CPUBackend.firstLayerApplies(g) {
            return firstLayerBackward(
                g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
                gradWeight: gradWeight, gradBias: gradBias)
        }
        let M = g.outChannels, N = g.batch, plane = g.outHeight * g.outWidth
        if let gradBias {
            parallel.forEach(M, grain: 16) { m in
                var total: Float = 0
                for n in 0..<N { total += sumFloats(gradOutput + (n * M + m) * plane, plane) }
                gradBias[m] = total
            }
        }
        blockedConvBackward(g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput, gradWeight: gradWeight)
    }

    private func blockedConvBackward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradWeight: UnsafeMutablePointer<Float>
    ) {
        let geometry = CPUBackend.directGeometry(g)!, taps = fm_direct_taps(geometry)
        let M = g.outChannels, C = g.inChannels, N = g.batch, plane = g.outHeight * g.outWidth
        let inPlane = g.height * g.width
        // The weight gradient's operands in the orders its loops walk: dY in 16-channel blocks
        // [block][image][pixel][16]; on small planes, whose loops run over images innermost, x
        // with channels outermost [channel][image][pixel].
        let gradOutputBlocks = workspace.floats(.columns, count: N * plane * M)
        let xByChannel = fm_direct_weight_grad_wants_x_by_channel(geometry) != 0
        let inputByChannel = xByChannel ? workspace.floats(.matrix, count: N * C * inPlane) : nil
        // A copy of x that cannot wait in the last-level cache for the kernel (the small stem's
        // 48 -> 24 stride 2: 38 MB) skips it (that weight gradient +3%, three op-table pairs).
        let stream = N * C * inPlane * MemoryLayout<Float>.stride >= cacheBypassBytes
        parallel.forEach(N, grain: 1) { n in
            fm_direct_weight_grad_operands(
                gradOutput, gradOutputBlocks, input, inputByChannel, Int32(N), Int32(M),
                Int32(C), Int32(plane), Int32(inPlane), Int32(n), Int32(n + 1), stream ? 1 : 0)
        }
        let packedGrad = workspace.floats(.packedWeightGrads, count: M * C * Int(taps))
        // Whole blocks per item (the usual case): each block's sums are unpacked right after they
        // are made, while they are still in L2. The 1x1 kernels take an item's blocks in one call,
        // to share each load of x among 4 blocks (their sums are 16 times smaller than 3x3 ones).
        let wholeBlocks = directSlicesPerBlock(blocks: M / 16, slices: C / 2) == 1
        let blocksPerCall = taps == 1 ? M / 16 : 1
        let x = inputByChannel.map { UnsafePointer($0) } ?? input
        directItems(blocks: M / 16, slices: C / 2) { _, blocks, slice, slices in
            let pairs = Parallel.range(slice, of: slices, count: C / 2)
            for first in stride(from: blocks.lowerBound, to: blocks.upperBound, by: blocksPerCall) {
                let end = Int32(Swift.min(first + blocksPerCall, blocks.upperBound))
                fm_direct_weight_grad(
                    geometry, x, gradOutputBlocks, packedGrad, Int32(N), Int32(C),
                    Int32(2 * pairs.lowerBound), Int32(2 * pairs.upperBound), Int32(first), end)
                if wholeBlocks { fm_direct_unpack(packedGrad, gradWeight, Int32(M), Int32(C), taps, Int32(first), end) }
            }
        }
        if !wholeBlocks {
            parallel.forRanges(M / 16) { blocks in
                fm_direct_unpack(
                    packedGrad, gradWeight, Int32(M), Int32(C), taps, Int32(blocks.lowerBound), Int32(blocks.upperBound))
            }
        }
        guard let gradInput else { return }
        directBlockwise(
            blocks: C / 16, blockFloats: M * Int(taps) * 16, images: N, inputFloats: N * M * plane,
            transposed: true, weight: weight, outChannels: M, inChannels: C, taps: taps
        ) { packed, blocks, images in
            fm_direct_input_grad(
                geometry, gradOutput + images.lowerBound * M * plane, packed, gradInput + images.lowerBound * C * inPlane,
                Int32(images.count), Int32(C), Int32(M), Int32(blocks.lowerBound), Int32(blocks.upperBound))
        }
    }
}
