import FacemineDevice

/// The roofline model: an op doing F FLOPs while it must move at least B bytes to and from
/// memory cannot run faster than min(peak, F / B x bandwidth). Ops whose intensity F / B is
/// below peak / bandwidth (the ridge) are bound by memory; there a percentage of the FP32
/// peak says nothing about the implementation, and the bytes per second against the measured
/// bandwidth do. B counts each operand once (read or written), the least any implementation
/// moves when operands do not fit in cache: a conservative count, which calls an op memory-bound
/// only when it clearly is.
struct Roofline {
    let peakGFLOPS: Double?
    let bandwidthGBs: Double?

    /// Fills in an entry's intensity, GB/s, which roof applies and the share of it reached.
    func annotate(_ e: inout BenchEntry, flops: Double, bytes: Double) {
        let intensity = flops / bytes
        e.flopsPerByte = intensity
        e.gigabytesPerSecond = bytes / e.seconds / 1e9
        guard let peak = peakGFLOPS, let bandwidth = bandwidthGBs, let gflops = e.gflops else { return }
        let memoryBound = intensity * bandwidth < peak
        e.memoryBound = memoryBound
        e.percentOfRoof = 100 * gflops / (memoryBound ? intensity * bandwidth : peak)
    }

    /// Floats each operand of a GEMM holds (beta = 0: C only written).
    static func gemmBytes(m: Int, n: Int, k: Int) -> Double {
        4 * (Double(m) * Double(k) + Double(k) * Double(n) + Double(m) * Double(n))
    }
}

/// The bytes each convolution pass must move at least: its operands once each. A 1x1 kernel
/// at stride s reads only every s-th pixel of every s-th row of x, but memory moves whole
/// 64-byte lines, so x counts the lines that hold those pixels (each plane taken to start on a
/// line): at stride 2 half of x on 48x48 planes, where the even rows are read whole, and all of
/// it on 12x12 ones, whose 48-byte rows share lines. (Counting only the pixels read, a quarter
/// of x, made the small planes' shortcuts look twice as far from memory as they are.)
extension ConvGeometry {
    private var inputElementsRead: Double {
        guard kernel == 1 && padding == 0 else { return inputElements }
        let floatsPerLine = 16
        var lines = Set<Int>()
        for oy in 0..<outHeight {
            for ox in 0..<outWidth { lines.insert((oy * stride * width + ox * stride) / floatsPerLine) }
        }
        return Double(batch * inChannels * Swift.min(lines.count * floatsPerLine, height * width))
    }
    private var inputElements: Double { Double(batch * inChannels * height * width) }
    private var outputElements: Double { Double(batch * outChannels * outHeight * outWidth) }
    private var weightElements: Double { Double(outChannels * inChannels * kernel * kernel) }

    var forwardBytes: Double { 4 * (inputElementsRead + weightElements + outputElements) }
    var weightGradientBytes: Double { 4 * (inputElementsRead + outputElements + weightElements) }
    var inputGradientBytes: Double { 4 * (outputElements + weightElements + inputElements) }
    /// Both gradients in one pass: x, dY and W read, dX and dW written.
    var backwardBytes: Double { 4 * (inputElementsRead + outputElements + 2 * weightElements + inputElements) }
}
