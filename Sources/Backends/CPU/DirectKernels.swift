import CDirectConv
import FacemineDevice

/// One convolution layer as the direct kernels (Sources/System/CDirectConv) take it: its row of
/// the C geometry table and its channels. Each method wraps one C entry point and converts
/// facemine's sizes to C's `int` in `call`, the one place that does.
struct DirectKernels {
    let geometry: Int32
    let inChannels: Int, outChannels: Int

    /// The kernels for a shape, or nil where `direct` does not apply (channels not multiples of
    /// 16, padding other than "same", a plane the table has no row for).
    init?(_ g: ConvGeometry) {
        guard g.padding == (g.kernel - 1) / 2, g.height == g.width, g.inChannels % 16 == 0, g.outChannels % 16 == 0 else {
            return nil
        }
        let code = fm_direct_geometry(Int32(g.kernel), Int32(g.width), Int32(g.outWidth), Int32(g.stride))
        guard code >= 0 else { return nil }
        (geometry, inChannels, outChannels) = (code, g.inChannels, g.outChannels)
    }

    /// The geometries of the C table (direct_geometries.h), by its names: what the tests check they cover.
    static var table: [(name: String, kernel: Int, inWidth: Int, outWidth: Int, stride: Int)] {
        (0..<fm_direct_geometry_count()).map { g in
            var kernel: Int32 = 0, inWidth: Int32 = 0, outWidth: Int32 = 0, stride: Int32 = 0
            let name = String(cString: fm_direct_geometry_shape(g, &kernel, &inWidth, &outWidth, &stride))
            return (name, Int(kernel), Int(inWidth), Int(outWidth), Int(stride))
        }
    }

    /// 9 for a 3x3 kernel, 1 for 1x1.
    var taps: Int { Int(fm_direct_taps(geometry)) }

    /// Whether the weight gradient reads x with channels outermost, [in][image][pixel].
    var weightGradWantsInputByChannel: Bool { fm_direct_weight_grad_wants_x_by_channel(geometry) != 0 }

    /// A call over `images` images (the pointers passed with it start at the first) and 16-channel `blocks`.
    private func call(images: Int, blocks: Range<Int>) -> fm_direct_call {
        fm_direct_call(
            geometry: geometry, images: Int32(images), in_channels: Int32(inChannels), out_channels: Int32(outChannels),
            block_begin: Int32(blocks.lowerBound), block_end: Int32(blocks.upperBound))
    }

    /// Weights into blocks of 16 out channels, or with `transposed` of 16 in channels.
    func pack(_ weight: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>, transposed: Bool, blocks: Range<Int>) {
        fm_direct_pack(call(images: 0, blocks: blocks), transposed ? 1 : 0, weight, packed)
    }

    /// The inverse of the untransposed packing, for blocks of out channels.
    func unpack(_ packed: UnsafePointer<Float>, into weight: UnsafeMutablePointer<Float>, blocks: Range<Int>) {
        fm_direct_unpack(call(images: 0, blocks: blocks), packed, weight)
    }

    func forward(
        _ x: UnsafePointer<Float>, packed: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, images: Int,
        blocks: Range<Int>
    ) {
        fm_direct_forward(call(images: images, blocks: blocks), x, packed, y)
    }

    /// `blocks` are of in channels, `packed` transposed.
    func inputGrad(
        _ dy: UnsafePointer<Float>, packed: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, images: Int,
        blocks: Range<Int>
    ) {
        fm_direct_input_grad(call(images: images, blocks: blocks), dy, packed, dx)
    }

    /// The weight gradient's operands for `part` of the batch's `images`: dY in 16-channel blocks
    /// and, where `inputByChannel` is given, x with channels outermost (`stream`: written around the caches).
    func weightGradOperands(
        gradOutput: UnsafePointer<Float>, blocks gradOutputBlocks: UnsafeMutablePointer<Float>,
        input: UnsafePointer<Float>, inputByChannel: UnsafeMutablePointer<Float>?, images: Int, part: Range<Int>,
        stream: Bool
    ) {
        fm_direct_weight_grad_operands(
            call(images: images, blocks: 0..<0), Int32(part.lowerBound), Int32(part.upperBound), stream ? 1 : 0,
            gradOutput, gradOutputBlocks, input, inputByChannel)
    }

    /// Packed weight gradients of out-channel `blocks` over in channels `inChannelRange` (even bounds).
    func weightGrad(
        input: UnsafePointer<Float>, gradOutputBlocks: UnsafePointer<Float>, into packedGrad: UnsafeMutablePointer<Float>,
        images: Int, blocks: Range<Int>, inChannelRange: Range<Int>
    ) {
        fm_direct_weight_grad(
            call(images: images, blocks: blocks), Int32(inChannelRange.lowerBound), Int32(inChannelRange.upperBound),
            input, gradOutputBlocks, packedGrad)
    }
}
