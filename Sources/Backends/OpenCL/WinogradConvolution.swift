import COpenCL
import FacemineDevice

/// Winograd F(2x2, 3x3) for 3x3 convolutions of stride 1 and padding 1 (Kernels/winograd.cl):
/// the kernels and each chunk of images are moved into the 4x4 Winograd domain, multiplied
/// there by one strided-batched CLBlast GEMM of 16 products, and the products moved back.
extension OpenCLBackend {
    /// y = conv(x, w) + bias for x: [N, C, H, W] and y: [N, O, H, W]. With `flip`, `weight` is
    /// the forward layer's [C][O] kernels used turned and transposed: the layer's input gradient
    /// from its output gradient.
    func winograd(input x: Tensor, weight: Tensor, flip: Bool, bias: Tensor?, output y: Tensor) {
        let n = x.shape[0], channels = x.shape[1], height = x.shape[2], width = x.shape[3], outChannels = y.shape[1]
        let tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2, tilesPerImage = tilesHigh * tilesWide
        // The 16 transformed planes of a chunk's inputs and products stay within the column budget.
        let perImage = 16 * Swift.max(channels, outChannels) * tilesPerImage * 4
        let chunk = Swift.max(1, Swift.min(n, Self.columnBudgetBytes / perImage))
        do {
            let u = try scratch(.winogradWeights, bytes: 16 * outChannels * channels * 4)
            let v = try scratch(.columns, bytes: 16 * channels * chunk * tilesPerImage * 4)
            let m = try scratch(.product, bytes: 16 * outChannels * chunk * tilesPerImage * 4)
            launch(
                Kernel.winogradWeights, global: outChannels * channels,
                [.tensor(weight), .buffer(u), .int(outChannels), .int(channels), .int(flip ? 1 : 0)])
            for first in stride(from: 0, to: n, by: chunk) {
                let count = Swift.min(chunk, n - first), tiles = count * tilesPerImage
                launch(
                    Kernel.winogradInputs, global: channels * tiles,
                    [
                        .tensor(x), .buffer(v), .int(channels), .int(height), .int(width), .int(tilesHigh), .int(tilesWide),
                        .int(first), .int(count),
                    ])
                stridedBatchedGEMM(GEMM(m: outChannels, n: tiles, k: channels, batchCount: 16), a: u, b: v, c: m)
                launch(
                    Kernel.winogradOutputs, global: outChannels * tiles,
                    [
                        .buffer(m), .tensor(y), .buffer(bias?.clBuffer ?? m), .int(bias == nil ? 0 : 1), .int(outChannels),
                        .int(height), .int(width), .int(tilesHigh), .int(tilesWide), .int(first), .int(count),
                    ])
            }
        } catch {
            if pendingError == nil { pendingError = error as? DeviceError }
        }
    }
}
