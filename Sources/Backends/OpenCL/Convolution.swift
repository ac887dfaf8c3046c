import CCLBlast
import COpenCL
import FacemineDevice

/// Convolution as im2col + one CLBlast GEMM per chunk of images. The chunk is as many images
/// as fit the column budget, so small layers run as one GEMM over the whole batch (what keeps a
/// GPU busy) and large ones stay within a bounded scratch size.
extension OpenCLBackend {
    /// Scratch bytes each column matrix may use; three are live in the backward pass.
    static let columnBudgetBytes = 64 << 20

    private func chunkSize(_ g: ConvGeometry) -> Int {
        let perImage = Swift.max(g.gemmK, g.outChannels) * g.outHeight * g.outWidth * 4
        return Swift.max(1, Swift.min(g.batch, Self.columnBudgetBytes / Swift.max(perImage, 1)))
    }

    private func geometryArguments(_ g: ConvGeometry, first: Int, count: Int) -> [Argument] {
        [
            .int(g.inChannels), .int(g.height), .int(g.width), .int(g.kernel), .int(g.stride), .int(g.padding),
            .int(g.outHeight), .int(g.outWidth), .int(first), .int(count),
        ]
    }

    public func conv2dForward(_ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor) {
        OpContract.convForward(g, input: input, weight: weight, bias: bias, output: output)
        let chunk = chunkSize(g), plane = g.outHeight * g.outWidth
        do {
            let columns = try scratch(.columns, bytes: g.gemmK * chunk * plane * 4)
            let product = try scratch(.product, bytes: g.outChannels * chunk * plane * 4)
            for first in stride(from: 0, to: g.batch, by: chunk) {
                let count = Swift.min(chunk, g.batch - first)
                launch(
                    Kernel.im2col, global: g.gemmK * count * plane,
                    [.tensor(input), .buffer(columns)] + geometryArguments(g, first: first, count: count))
                gemm(
                    transposeA: false, transposeB: false, m: g.outChannels, n: count * plane, k: g.gemmK, alpha: 1,
                    a: weight.clBuffer, aOffset: 0, b: columns, bOffset: 0, beta: 0, c: product, cOffset: 0)
                launch(
                    Kernel.columnsToImages, global: count * g.outChannels * plane,
                    [
                        .buffer(product), .tensor(output), .buffer(bias?.clBuffer ?? product), .int(bias == nil ? 0 : 1),
                        .int(g.outChannels), .int(plane), .int(first), .int(count),
                    ])
            }
        } catch {
            if pendingError == nil { pendingError = error as? DeviceError }
        }
    }

    public func conv2dBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor,
        gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor?
    ) {
        OpContract.convBackward(
            g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
            gradWeight: gradWeight, gradBias: gradBias)
        let chunk = chunkSize(g), plane = g.outHeight * g.outWidth
        do {
            let columns = try scratch(.columns, bytes: g.gemmK * chunk * plane * 4)
            let gradColumns = try scratch(.product, bytes: g.outChannels * chunk * plane * 4)
            let inputColumns = gradInput == nil ? columns : try scratch(.inputColumns, bytes: g.gemmK * chunk * plane * 4)
            for first in stride(from: 0, to: g.batch, by: chunk) {
                let count = Swift.min(chunk, g.batch - first)
                let geometry = geometryArguments(g, first: first, count: count)
                launch(Kernel.im2col, global: g.gemmK * count * plane, [.tensor(input), .buffer(columns)] + geometry)
                launch(
                    Kernel.imagesToColumns, global: g.outChannels * count * plane,
                    [.tensor(gradOutput), .buffer(gradColumns), .int(g.outChannels), .int(plane), .int(first), .int(count)])
                try weightGradient(
                    g, gradColumns: gradColumns, columns: columns, inner: count * plane,
                    into: gradWeight, accumulate: first > 0)
                if let gradInput {
                    // dColumns[K, cn*P] = W[O, K]^T * dY, then scattered back (gathered) into the images.
                    gemm(
                        transposeA: true, transposeB: false, m: g.gemmK, n: count * plane, k: g.outChannels, alpha: 1,
                        a: weight.clBuffer, aOffset: 0, b: gradColumns, bOffset: 0, beta: 0, c: inputColumns, cOffset: 0)
                    launch(
                        Kernel.col2im, global: count * g.inChannels * g.height * g.width,
                        [.buffer(inputColumns), .tensor(gradInput)] + geometry)
                }
            }
        } catch {
            if pendingError == nil { pendingError = error as? DeviceError }
        }
        if let gradBias { biasGradient(gradOutput, into: gradBias) }
    }

    /// gradWeight (+)= dY[O, L] * columns[K, L]^T. When O x K is small and L long (early layers:
    /// 32 x 9 outputs summed over 147,456 positions) a plain GEMM has a handful of output tiles
    /// to spread over the device, and a GPU idles (8.6 ms on an H200 for MyCNN's first layer).
    /// Such products are split along L into slices, multiplied as one strided-batched GEMM into
    /// partial products, and the slices summed.
    func weightGradient(
        _ g: ConvGeometry, gradColumns: cl_mem, columns: cl_mem, inner: Int,
        into gradWeight: Tensor, accumulate: Bool
    ) throws {
        let outputs = g.outChannels * g.gemmK
        let slices = Self.innerSlices(outputs: outputs, inner: inner)
        guard slices > 1 else {
            gemm(
                transposeA: false, transposeB: true, m: g.outChannels, n: g.gemmK, k: inner, alpha: 1,
                a: gradColumns, aOffset: 0, b: columns, bOffset: 0, beta: accumulate ? 1 : 0,
                c: gradWeight.clBuffer, cOffset: 0)
            return
        }
        let partial = try scratch(.partials, bytes: slices * outputs * 4)
        let length = inner / slices, rest = inner - length * slices
        let status = CLBlastSgemmStridedBatched(
            CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, g.outChannels, g.gemmK, length, 1,
            gradColumns, 0, inner, length, columns, 0, inner, length, 0, partial, 0, g.gemmK, outputs, slices, &queue, nil)
        recordCLBlast(status, "split weight-gradient SGEMM \(g.outChannels)x\(g.gemmK)x\(length) x\(slices)")
        if rest > 0 {  // the positions past the last whole slice go into the first slice
            let tail = CLBlastSgemm(
                CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, g.outChannels, g.gemmK, rest, 1,
                gradColumns, length * slices, inner, columns, length * slices, inner, 1, partial, 0, g.gemmK, &queue, nil)
            recordCLBlast(tail, "weight-gradient SGEMM tail \(g.outChannels)x\(g.gemmK)x\(rest)")
        }
        launch(
            Kernel.sumSlices, global: outputs,
            [.buffer(partial), .tensor(gradWeight), .int(outputs), .int(slices), .float(accumulate ? 1 : 0)])
    }

    /// Slices of at least 512 positions each, until the partial products reach about a million
    /// values (4 MB): enough output tiles to fill a large GPU, a bounded extra read.
    static func innerSlices(outputs: Int, inner: Int) -> Int {
        Swift.max(1, Swift.min(inner / 512, (1 << 20) / Swift.max(outputs, 1)))
    }
}
