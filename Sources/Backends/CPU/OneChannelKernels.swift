import CFirstLayerConv
import CStemConv

/// The C kernels of one-channel first layers on 48x48 faces, behind one interface: the 3x3
/// first layer (Sources/System/CFirstLayerConv) or the imagenet stem's 7x7 at stride 2
/// (Sources/System/CStemConv). Each method wraps one entry point of each and converts sizes to
/// C's `int` here.
struct OneChannelKernels {
    /// The imagenet stem, else the 3x3 first layer.
    let stem: Bool
    let outChannels: Int

    /// Floats per image of the arranged input: the weight gradient's view of x (fm_stem_arrange,
    /// fm_first_pad) and the forward pass's per-thread scratch.
    var arrangedFloats: Int { stem ? Int(FM_STEM_TAPS) : Int(FM_FIRST_PADDED) }
    /// Floats of partial sums per out channel that the weight gradient needs.
    var sumsPerChannel: Int { Int(stem ? FM_STEM_SUMS_PER_CHANNEL : FM_FIRST_SUMS) }

    /// y for `images` images, the bias (optional) added with the products; `scratch` holds `arrangedFloats`.
    func forward(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, images: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        if stem {
            fm_stem_forward(x, weight, bias, y, Int32(images), Int32(outChannels), scratch)
        } else {
            fm_first_forward(x, weight, bias, y, Int32(images), Int32(outChannels), scratch)
        }
    }

    /// x of `images` images arranged as the weight gradient reads it, `arrangedFloats` each.
    func arrange(_ x: UnsafePointer<Float>, into arranged: UnsafeMutablePointer<Float>, images: Int) {
        if stem { fm_stem_arrange(x, arranged, Int32(images)) } else { fm_first_pad(x, arranged, Int32(images)) }
    }

    /// dW and dB (optional) of out channels `channels` (even bounds) over `images` images.
    func weightGrad(
        arranged: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradWeight: UnsafeMutablePointer<Float>,
        gradBias: UnsafeMutablePointer<Float>?, sums: UnsafeMutablePointer<Float>, images: Int, channels: Range<Int>
    ) {
        let (n, m) = (Int32(images), Int32(outChannels))
        let (c0, c1) = (Int32(channels.lowerBound), Int32(channels.upperBound))
        if stem {
            fm_stem_weight_grad(arranged, gradOutput, gradWeight, gradBias, sums, n, m, c0, c1)
        } else {
            fm_first_weight_grad(arranged, gradOutput, gradWeight, gradBias, sums, n, m, c0, c1)
        }
    }

    /// dX for `images` images; the stem uses `scratch` (`arrangedFloats`), the 3x3 layer none.
    func inputGrad(
        _ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, images: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        if stem {
            fm_stem_input_grad(dy, weight, dx, Int32(images), Int32(outChannels), scratch)
        } else {
            fm_first_input_grad(dy, weight, dx, Int32(images), Int32(outChannels))
        }
    }
}
