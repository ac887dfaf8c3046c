/// Which implementation of the op contract runs.
public enum BackendKind: String, CaseIterable, Sendable {
    case cpu
    case opencl
}

/// The op contract every backend implements (DESIGN.md §2). Layers, models, the trainer and
/// the CLI talk to this protocol only, so a new backend is one new folder that passes the
/// shared conformance suite.
///
/// Conventions for every op:
/// - Float32, dense row-major tensors; images are NCHW, convolution weights [out, in, k, k].
/// - Ops *enqueue* work and never return data. Reading a tensor back (`download`) or calling
///   `synchronize` is the synchronisation point, so a training step issues all its ops without
///   a host round trip per layer. Device failures (out of memory, a lost GPU) surface at that
///   point as a thrown `DeviceError`.
/// - Outputs are overwritten, never accumulated into, unless the op says otherwise
///   (GEMM's `beta`). Outputs must not alias inputs unless the op says it works in place.
/// - Shapes are checked with preconditions: a mismatch is a programming error, not bad data.
public protocol Backend: AnyObject {
    var kind: BackendKind { get }
    /// One line naming the device, e.g. "CPU: 2 threads, OpenBLAS 0.3.21 (Haswell)".
    var deviceDescription: String { get }
    var memoryStatistics: MemoryStatistics { get }
    /// Kernel choices the backend made by timing candidates on its device, by what they are
    /// for (a convolution shape and pass), for `facemine bench` to print; empty where nothing
    /// is timed (`BackendConveniences` gives that default).
    var tunedKernelChoices: [String: String] { get }

    // MARK: memory and transfers

    /// A new zero-filled tensor on this backend.
    func makeTensor(_ shape: [Int], dtype: DType) throws -> Tensor
    func upload(_ values: UnsafeBufferPointer<Float>, to tensor: Tensor)
    func upload(_ values: UnsafeBufferPointer<Int32>, to tensor: Tensor)
    /// Waits for all enqueued work touching `tensor`, then copies it out.
    func download(_ tensor: Tensor, into values: UnsafeMutableBufferPointer<Float>) throws
    func download(_ tensor: Tensor, into values: UnsafeMutableBufferPointer<Int32>) throws
    /// Waits for all enqueued work; throws the first device error since the last sync.
    func synchronize() throws
    func fill(_ tensor: Tensor, with value: Float)
    func copy(_ source: Tensor, to destination: Tensor)

    // MARK: matrix products

    /// C = alpha * op(A) * op(B) + beta * C for each of `op.batchCount` problems.
    func gemm(_ op: GEMM, a: Tensor, b: Tensor, c: Tensor)

    // MARK: convolution (groups = 1)

    /// output[n, o] = bias[o] + sum over c, kh, kw of weight[o, c, kh, kw] * padded input.
    func conv2dForward(_ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor)
    /// Gradients of the convolution: with respect to the input (skipped when `gradInput` is
    /// nil, as for a network's first layer), the weight, and the bias (when given).
    /// One op, because the im2col view of `gradOutput` serves all three.
    func conv2dBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor,
        gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor?)

    /// x[n, c, ...] += bias[c], in place (linear layers: x is [N, features]).
    func addBias(_ x: Tensor, bias: Tensor)
    /// gradBias[c] = sum of gradOutput[n, c, ...] over every n and position.
    func biasGradient(_ gradOutput: Tensor, into gradBias: Tensor)

    // MARK: batch normalisation over N, H, W per channel

    /// Normalises with the batch's statistics, updates the running statistics in place, and
    /// keeps the batch mean and 1/sqrt(var + eps) per channel for the backward pass; the
    /// normalised values go through `epilogue` (a residual add, a ReLU) on their way out.
    func batchNormTrainingForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVariance: Tensor,
        settings: BatchNormSettings, output: Tensor,
        savedMean: Tensor, savedInvStd: Tensor, epilogue: BatchNormEpilogue)
    /// Normalises with the running statistics (evaluation mode), then applies `epilogue`.
    func batchNormInferenceForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVariance: Tensor,
        epsilon: Float, output: Tensor, epilogue: BatchNormEpilogue)
    /// With `reluOutput` (the output of a forward pass whose epilogue ended in a ReLU),
    /// `gradOutput` is the gradient at that output: it is first zeroed in place where
    /// `reluOutput` <= 0, becoming the gradient at the ReLU's input, which is also what a fused
    /// residual receives. `gradInput` may be `gradOutput` itself when that is not needed.
    func batchNormBackward(
        gradOutput: Tensor, input: Tensor, gamma: Tensor,
        savedMean: Tensor, savedInvStd: Tensor,
        gradInput: Tensor, gradGamma: Tensor, gradBeta: Tensor, reluOutput: Tensor?)

    // MARK: pooling

    /// Max pooling; `indices` (Int32, output's shape) records the winning position h * W + w
    /// inside each input plane, as PyTorch does. Ties go to the first position in scan order.
    func maxPoolForward(_ g: PoolGeometry, input: Tensor, output: Tensor, indices: Tensor)
    func maxPoolBackward(_ g: PoolGeometry, gradOutput: Tensor, indices: Tensor, gradInput: Tensor)
    /// [N, C, H, W] -> [N, C]: the mean of each plane.
    func globalAvgPoolForward(_ input: Tensor, output: Tensor)
    func globalAvgPoolBackward(_ gradOutput: Tensor, gradInput: Tensor)

    // MARK: elementwise

    /// `output` may be `x` itself (in place, as torchvision's ResNet runs it).
    func reluForward(_ x: Tensor, output: Tensor)
    /// gradInput = gradOutput where the forward *output* was positive, else 0; `gradInput` may
    /// be `gradOutput` itself.
    func reluBackward(gradOutput: Tensor, output: Tensor, gradInput: Tensor)
    /// output = a + b (residual connections); `output` may alias `a` or `b`.
    func add(_ a: Tensor, _ b: Tensor, output: Tensor)
    /// y = alpha * x + beta * y, in place on `y` (BLAS's axpby): mixup's blend of two loss
    /// gradients and the moving average of the weights are each one pass of it.
    func axpby(alpha: Float, _ x: Tensor, beta: Float, _ y: Tensor)
    /// Inverted dropout: element i is kept, scaled by 1/(1-p), when
    /// `Philox.uniform(seed:step:index: i) >= p`, else zeroed. The backward pass draws the same
    /// mask again from (seed, step) instead of storing it.
    func dropoutForward(_ x: Tensor, output: Tensor, probability: Float, seed: UInt64, step: UInt64)
    /// `gradInput` may be `gradOutput` itself.
    func dropoutBackward(
        gradOutput: Tensor, gradInput: Tensor, probability: Float,
        seed: UInt64, step: UInt64)

    // MARK: loss

    /// Softmax cross-entropy over logits [N, C] and Int32 labels [N], as PyTorch's
    /// `cross_entropy(weight:, label_smoothing:)` with mean reduction: the target of row i is
    /// (1 - s) * onehot(y_i) + s / C, each class term is scaled by its weight, and the sum is
    /// divided by the total weight of the rows' true classes. Writes the scalar loss into
    /// `loss` ([1]) and dLoss/dLogits into `gradLogits` when given.
    func softmaxCrossEntropy(
        logits: Tensor, labels: Tensor, classWeights: Tensor?,
        labelSmoothing: Float, loss: Tensor, gradLogits: Tensor?)
    /// Focal loss (Lin et al., 2017) over logits [N, C]: row i contributes
    /// -w_y (1 - p_y)^gamma log p_y for its true class y, and the sum is divided by the total
    /// weight of the rows' true classes, as cross-entropy's mean. gamma = 0 is weighted
    /// cross-entropy; larger gamma lets well-classified faces count less.
    func softmaxFocalLoss(
        logits: Tensor, labels: Tensor, classWeights: Tensor?, gamma: Float,
        loss: Tensor, gradLogits: Tensor?)

    // MARK: optimizers (in place on parameter and state)

    /// `step` counts from 1; on step 1 the momentum buffer is set to the gradient.
    func sgdStep(
        parameter: Tensor, gradient: Tensor, momentumBuffer: Tensor?,
        settings: SGDSettings, step: Int)
    /// `step` counts from 1 and sets the bias corrections.
    func adamStep(
        parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
        settings: AdamSettings, step: Int)

    // MARK: reductions for metrics

    /// indices[n] = the first column holding the maximum of row n of x [N, C].
    func argmaxRows(_ x: Tensor, into indices: Tensor)
    /// result[0] = sum of every element of x.
    func sum(_ x: Tensor, into result: Tensor)
    /// result[i] = the sum of squares of tensors[i]. The trainer's guard and gradient-norm
    /// clipping read every gradient's norm each step: one op and one transfer for all of them,
    /// and non-finite exactly when some element is (or the sum overflows, which is as bad).
    func squaredNorms(_ tensors: [Tensor], into result: Tensor)
}

/// Failures a device reports at a synchronisation point or allocation. Each message is one
/// line that says what failed and what to do.
public enum DeviceError: Error, CustomStringConvertible, Equatable {
    case outOfMemory(requestedBytes: Int, detail: String)
    case deviceLost(String)
    case unavailable(String)
    case failed(String)

    public var description: String {
        switch self {
        case .outOfMemory(let bytes, let detail):
            return bytes > 0 ? "out of device memory allocating \(bytes) bytes: \(detail)" : "out of device memory: \(detail)"
        case .deviceLost(let detail): return "device lost: \(detail)"
        case .unavailable(let detail): return detail
        case .failed(let detail): return detail
        }
    }
}
