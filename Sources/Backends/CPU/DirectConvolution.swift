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
    /// The direct kernels' geometries, as the C table (direct_geometries.h) names them: what
    /// the tests check they cover.
    public static var directGeometries: [(name: String, kernel: Int, inWidth: Int, outWidth: Int, stride: Int)] {
        DirectKernels.table
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
        _ kernels: DirectKernels, blocks: Int, blockFloats: Int, images: Int, inputFloats: Int, transposed: Bool,
        weight: UnsafePointer<Float>, _ run: (_ packed: UnsafePointer<Float>, _ blocks: Range<Int>, _ images: Range<Int>) -> Void
    ) {
        let pack = { (into: UnsafeMutablePointer<Float>, blocks: Range<Int>) in
            kernels.pack(weight, into: into, transposed: transposed, blocks: blocks)
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
        let kernels = DirectKernels(g)!
        let M = g.outChannels, C = g.inChannels, inPlane = g.height * g.width, plane = g.outHeight * g.outWidth
        directBlockwise(
            kernels, blocks: M / 16, blockFloats: C * kernels.taps * 16, images: g.batch, inputFloats: g.batch * C * inPlane,
            transposed: false, weight: weight
        ) { packed, blocks, images in
            kernels.forward(
                input + images.lowerBound * C * inPlane, packed: packed, output + images.lowerBound * M * plane,
                images: images.count, blocks: blocks)
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
        let kernels = DirectKernels(g)!, taps = kernels.taps
        let M = g.outChannels, C = g.inChannels, N = g.batch, plane = g.outHeight * g.outWidth
        let inPlane = g.height * g.width
        // The weight gradient's operands in the orders its loops walk: dY in 16-channel blocks
        // [block][image][pixel][16]; on small planes, whose loops run over images innermost, x
        // with channels outermost [channel][image][pixel].
        let gradOutputBlocks = workspace.floats(.columns, count: N * plane * M)
        let inputByChannel = kernels.weightGradWantsInputByChannel ? workspace.floats(.matrix, count: N * C * inPlane) : nil
        // A copy of x that cannot wait in the last-level cache for the kernel (the small stem's
        // 48 -> 24 stride 2: 38 MB) skips it (that weight gradient +3%, three op-table pairs).
        let stream = N * C * inPlane * MemoryLayout<Float>.stride >= cacheBypassBytes
        parallel.forEach(N, grain: 1) { n in
            kernels.weightGradOperands(
                gradOutput: gradOutput, blocks: gradOutputBlocks, input: input, inputByChannel: inputByChannel,
                images: N, part: n..<(n + 1), stream: stream)
        }
        let packedGrad = workspace.floats(.packedWeightGrads, count: M * C * taps)
        // Whole blocks per item (the usual case): each block's sums are unpacked right after they
        // are made, while they are still in L2. The 1x1 kernels take an item's blocks in one call,
        // to share each load of x among 4 blocks (their sums are 16 times smaller than 3x3 ones).
        let wholeBlocks = directSlicesPerBlock(blocks: M / 16, slices: C / 2) == 1
        let blocksPerCall = taps == 1 ? M / 16 : 1
        let x = inputByChannel.map { UnsafePointer($0) } ?? input
        directItems(blocks: M / 16, slices: C / 2) { _, blocks, slice, slices in
            let pairs = Parallel.range(slice, of: slices, count: C / 2)
            for first in stride(from: blocks.lowerBound, to: blocks.upperBound, by: blocksPerCall) {
                let callBlocks = first..<Swift.min(first + blocksPerCall, blocks.upperBound)
                kernels.weightGrad(
                    input: x, gradOutputBlocks: gradOutputBlocks, into: packedGrad, images: N, blocks: callBlocks,
                    inChannelRange: (2 * pairs.lowerBound)..<(2 * pairs.upperBound))
                if wholeBlocks { kernels.unpack(packedGrad, into: gradWeight, blocks: callBlocks) }
            }
        }
        if !wholeBlocks {
            parallel.forRanges(M / 16) { blocks in
                kernels.unpack(packedGrad, into: gradWeight, blocks: blocks)
            }
        }
        guard let gradInput else { return }
        directBlockwise(
            kernels, blocks: C / 16, blockFloats: M * taps * 16, images: N, inputFloats: N * M * plane,
            transposed: true, weight: weight
        ) { packed, blocks, images in
            kernels.inputGrad(
                gradOutput + images.lowerBound * M * plane, packed: packed, gradInput + images.lowerBound * C * inPlane,
                images: images.count, blocks: blocks)
        }
    }
}
