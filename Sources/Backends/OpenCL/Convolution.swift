import CCLBlast
import COpenCL
import FacemineDevice
import Foundation

/// Convolution, by the algorithm `ConvTuner` found fastest for the shape on this device:
/// im2col + one CLBlast GEMM per chunk of images, the implicit-GEMM kernels of
/// Kernels/implicit_conv.cl in one of two tile sizes, or (3x3 stride-1 layers) Winograd
/// (WinogradConvolution.swift). The im2col chunk is as many images as fit the column budget, so
/// small layers run as one GEMM over the whole batch (what keeps a GPU busy) and large ones stay
/// within a bounded scratch size.
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
        let algorithm = tunedAlgorithm(g, .forward) {
            conv2dForward(g, input: input, weight: weight, bias: bias, output: output, algorithm: $0)
        }
        conv2dForward(g, input: input, weight: weight, bias: bias, output: output, algorithm: algorithm)
    }

    public func conv2dBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor,
        gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor?
    ) {
        let algorithm = tunedAlgorithm(g, .backward) {
            conv2dBackward(
                g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput, gradWeight: gradWeight,
                gradBias: nil, algorithm: $0)
        }
        conv2dBackward(
            g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput, gradWeight: gradWeight,
            gradBias: gradBias, algorithm: algorithm)
    }

    /// The tuner's algorithm for the shape; at its first use, each candidate runs once to warm
    /// up (CLBlast compiles its kernels at a shape's first call) and twice timed, the least
    /// time counting. `slowedConvAlgorithm` (tests) runs one candidate ten times per timing.
    private func tunedAlgorithm(
        _ g: ConvGeometry, _ pass: ConvTuner.Pass, _ run: (OpenCLConvAlgorithm) -> Void
    ) -> OpenCLConvAlgorithm {
        convTuner.algorithm(for: g, pass) { candidate in
            let repeats = candidate == slowedConvAlgorithm ? 10 : 1
            run(candidate)
            clFinish(queue)
            var best = Double.infinity
            for _ in 0..<2 {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats { run(candidate) }
                clFinish(queue)
                best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return best
        }
    }

    /// Runs a chosen algorithm: tests and the tuner compare them on one shape.
    public func conv2dForward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor, algorithm: OpenCLConvAlgorithm
    ) {
        OpContract.convForward(g, input: input, weight: weight, bias: bias, output: output)
        precondition(algorithm.runs(g), "\(algorithm.rawValue) cannot run \(g)")
        switch algorithm {
        case .im2col: im2colForward(g, input: input, weight: weight, bias: bias, output: output)
        case .winograd:
            winograd(input: input, weight: weight, flip: false, bias: bias, output: output)
        case .implicit64, .implicit32:
            let tile = algorithm == .implicit64 ? 64 : 32
            launch(
                tile == 64 ? Kernel.implicitForward64 : Kernel.implicitForward32,
                groups: Self.tiles(g.outChannels, tile) * Self.tiles(g.batch * g.outHeight * g.outWidth, tile),
                [.tensor(input), .tensor(weight), .tensor(bias ?? weight), .int(bias == nil ? 0 : 1), .tensor(output)]
                    + shapeArguments(g))
        }
    }

    public func conv2dBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor,
        gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor?, algorithm: OpenCLConvAlgorithm
    ) {
        OpContract.convBackward(
            g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
            gradWeight: gradWeight, gradBias: gradBias)
        precondition(algorithm.runs(g), "\(algorithm.rawValue) cannot run \(g)")
        switch algorithm {
        case .im2col:
            im2colBackward(g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput, gradWeight: gradWeight)
        case .winograd:
            im2colBackward(g, input: input, weight: weight, gradOutput: gradOutput, gradInput: nil, gradWeight: gradWeight)
            if let gradInput {
                winograd(input: gradOutput, weight: weight, flip: true, bias: nil, output: gradInput)
            }
        case .implicit64, .implicit32:
            implicitBackward(
                g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput, gradWeight: gradWeight,
                tile: algorithm == .implicit64 ? 64 : 32)
        }
        if let gradBias { biasGradient(gradOutput, into: gradBias) }
    }

    private static func tiles(_ count: Int, _ tile: Int) -> Int { (count + tile - 1) / tile }

    /// N, C, H, W, O, k, stride, padding, OH, OW: how every implicit kernel's arguments end.
    private func shapeArguments(_ g: ConvGeometry) -> [Argument] {
        [g.batch, g.inChannels, g.height, g.width, g.outChannels, g.kernel, g.stride, g.padding, g.outHeight, g.outWidth]
            .map { .int($0) }
    }

    /// The weight gradient in slices of the pixels summed by sum_slices (as `weightGradient`
    /// splits its GEMM, for the same reason), then the input gradient.
    private func implicitBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor, gradInput: Tensor?, gradWeight: Tensor,
        tile: Int
    ) {
        let outputs = g.outChannels * g.gemmK, pixels = g.batch * g.outHeight * g.outWidth
        let slices = Self.innerSlices(outputs: outputs, inner: pixels)
        do {
            let partials = try scratch(.partials, bytes: slices * outputs * 4)
            launch(
                tile == 64 ? Kernel.implicitWeightGrad64 : Kernel.implicitWeightGrad32,
                groups: slices * Self.tiles(g.outChannels, tile) * Self.tiles(g.gemmK, tile),
                [.tensor(input), .tensor(gradOutput), .buffer(partials), .int(slices), .int(pixels / slices)]
                    + shapeArguments(g))
            launch(
                Kernel.sumSlices, global: outputs,
                [.buffer(partials), .tensor(gradWeight), .int(outputs), .int(slices), .float(0)])
        } catch {
            if pendingError == nil { pendingError = error as? DeviceError }
        }
        guard let gradInput else { return }
        launch(
            tile == 64 ? Kernel.implicitInputGrad64 : Kernel.implicitInputGrad32,
            groups: Self.tiles(g.inChannels, tile) * Self.tiles(g.batch * g.height * g.width, tile),
            [.tensor(gradOutput), .tensor(weight), .tensor(gradInput)] + shapeArguments(g))
    }

    private func im2colForward(_ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor) {
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

    private func im2colBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor, gradInput: Tensor?, gradWeight: Tensor
    ) {
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
