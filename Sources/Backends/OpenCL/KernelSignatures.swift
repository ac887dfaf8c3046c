/// The argument list of a kernel of Kernels/*.cl, fixed in Swift: `launch` refuses arguments
/// that do not match it (count, and kind: a float or int buffer, an int, a float, a uint), and
/// `KernelSignatureTests` parses the .cl sources so that a signature changed on one side only
/// fails a test instead of reading the wrong argument on the device.
struct KernelSignature: Equatable, Sendable {
    enum Parameter: Equatable, Sendable {
        /// `__global float*` (a Float32 tensor or a scratch buffer).
        case floats
        /// `__global int*` (an Int32 tensor).
        case ints
        case int
        case float
        case uint
    }

    let name: String
    let parameters: [Parameter]

    init(_ name: String, _ parameters: [Parameter]) {
        self.name = name
        self.parameters = parameters
    }
}

/// Every kernel of Kernels/*.cl, in the files' order.
enum Kernel {
    // batchnorm.cl
    static let bnStatistics = KernelSignature(
        "bn_statistics", [.floats, .int, .int, .int, .float, .float, .floats, .floats, .floats, .floats])
    static let bnApply = KernelSignature(
        "bn_apply", [.floats, .floats, .floats, .floats, .floats, .floats, .int, .int, .int, .floats, .int, .int])
    static let bnInference = KernelSignature(
        "bn_inference", [.floats, .floats, .floats, .floats, .floats, .floats, .float, .int, .int, .int, .floats, .int, .int])
    static let bnBackwardReduce = KernelSignature(
        "bn_backward_reduce", [.floats, .floats, .floats, .floats, .int, .int, .int, .floats, .floats, .floats, .int])
    static let bnBackwardApply = KernelSignature(
        "bn_backward_apply", [.floats, .floats, .floats, .floats, .floats, .floats, .floats, .floats, .int, .int, .float, .int])
    // common.cl
    // convolution.cl
    static let im2col = KernelSignature("im2col", [.floats, .floats, .int, .int, .int, .int, .int, .int, .int, .int, .int, .int])
    static let col2im = KernelSignature("col2im", [.floats, .floats, .int, .int, .int, .int, .int, .int, .int, .int, .int, .int])
    static let columnsToImages = KernelSignature("columns_to_images", [.floats, .floats, .floats, .int, .int, .int, .int, .int])
    static let imagesToColumns = KernelSignature("images_to_columns", [.floats, .floats, .int, .int, .int, .int])
    // dropout.cl
    static let dropoutApply = KernelSignature(
        "dropout_apply", [.floats, .floats, .int, .float, .float, .uint, .uint, .uint, .uint])
    // elementwise.cl
    static let reluForward = KernelSignature("relu_forward", [.floats, .floats, .int])
    static let reluBackward = KernelSignature("relu_backward", [.floats, .floats, .floats, .int])
    static let add = KernelSignature("add", [.floats, .floats, .floats, .int])
    static let axpby = KernelSignature("axpby", [.float, .floats, .float, .floats, .int])
    static let addBias = KernelSignature("add_bias", [.floats, .floats, .int, .int, .int])
    static let biasGradient = KernelSignature("bias_gradient", [.floats, .floats, .int, .int, .int])
    // implicit_conv.cl
    static let implicitForward64 = implicitForward("implicit_forward_64")
    static let implicitForward32 = implicitForward("implicit_forward_32")
    static let implicitInputGrad64 = implicitInputGrad("implicit_input_grad_64")
    static let implicitInputGrad32 = implicitInputGrad("implicit_input_grad_32")
    static let implicitWeightGrad64 = implicitWeightGrad("implicit_weight_grad_64")
    static let implicitWeightGrad32 = implicitWeightGrad("implicit_weight_grad_32")
    /// The convolution geometry every implicit kernel ends with: N, C, H, W, O, k, stride, pad, OH, OW.
    private static let convShape = [KernelSignature.Parameter](repeating: .int, count: 10)
    private static func implicitForward(_ name: String) -> KernelSignature {
        KernelSignature(name, [.floats, .floats, .floats, .int, .floats] + convShape)
    }
    private static func implicitInputGrad(_ name: String) -> KernelSignature {
        KernelSignature(name, [.floats, .floats, .floats] + convShape)
    }
    private static func implicitWeightGrad(_ name: String) -> KernelSignature {
        KernelSignature(name, [.floats, .floats, .floats, .int, .int] + convShape)
    }
    // winograd.cl
    static let winogradWeights = KernelSignature("winograd_weights", [.floats, .floats, .int, .int, .int])
    static let winogradInputs = KernelSignature(
        "winograd_inputs", [.floats, .floats, .int, .int, .int, .int, .int, .int, .int])
    static let winogradOutputs = KernelSignature(
        "winograd_outputs", [.floats, .floats, .floats, .int, .int, .int, .int, .int, .int, .int, .int])
    // loss.cl
    static let softmaxCrossEntropy = KernelSignature(
        "softmax_cross_entropy", [.floats, .ints, .floats, .int, .int, .int, .float, .floats, .floats, .int])
    static let softmaxFocalLoss = KernelSignature(
        "softmax_focal_loss", [.floats, .ints, .floats, .int, .int, .int, .float, .floats, .floats, .int])
    // optimizers.cl
    static let sgdStep = KernelSignature("sgd_step", [.floats, .floats, .int, .float, .float, .float])
    static let sgdMomentumStep = KernelSignature(
        "sgd_momentum_step", [.floats, .floats, .floats, .int, .float, .float, .float, .float, .float, .int, .int])
    static let adamStep = KernelSignature(
        "adam_step", [.floats, .floats, .floats, .floats, .int, .float, .float, .float, .float, .float, .float, .float, .float])
    // pooling.cl
    static let maxpoolForward = KernelSignature(
        "maxpool_forward", [.floats, .floats, .ints, .int, .int, .int, .int, .int, .int, .int, .int])
    static let maxpoolBackward = KernelSignature(
        "maxpool_backward", [.floats, .ints, .floats, .int, .int, .int, .int, .int, .int, .int, .int])
    static let globalAvgPoolForward = KernelSignature("global_avg_pool_forward", [.floats, .floats, .int, .int])
    static let globalAvgPoolBackward = KernelSignature("global_avg_pool_backward", [.floats, .floats, .int, .int])
    // reductions.cl
    static let argmaxRows = KernelSignature("argmax_rows", [.floats, .ints, .int, .int])
    static let sumAll = KernelSignature("sum_all", [.floats, .floats, .int])
    static let squaredNormPartial = KernelSignature("squared_norm_partial", [.floats, .int, .floats, .int])
    static let sumRows = KernelSignature("sum_rows", [.floats, .floats, .int, .int])
    static let sumSlices = KernelSignature("sum_slices", [.floats, .floats, .int, .int, .float])

    static let all: [KernelSignature] = [
        bnStatistics, bnApply, bnInference, bnBackwardReduce, bnBackwardApply, im2col, col2im, columnsToImages, imagesToColumns,
        dropoutApply, reluForward, reluBackward, add, axpby, addBias, biasGradient, implicitForward64, implicitForward32,
        implicitInputGrad64, implicitInputGrad32, implicitWeightGrad64, implicitWeightGrad32, softmaxCrossEntropy,
        softmaxFocalLoss,
        sgdStep, sgdMomentumStep, adamStep, maxpoolForward, maxpoolBackward, globalAvgPoolForward, globalAvgPoolBackward,
        argmaxRows, sumAll, squaredNormPartial, sumRows, sumSlices, winogradWeights, winogradInputs, winogradOutputs,
    ]
}

extension OpenCLBackend.Argument {
    /// Whether this argument can be passed for `parameter`.
    func fits(_ parameter: KernelSignature.Parameter) -> Bool {
        switch (self, parameter) {
        case let (.tensor(t), .floats): t.dtype == .float32
        case let (.tensor(t), .ints): t.dtype == .int32
        case (.buffer, .floats), (.int, .int), (.float, .float), (.uint, .uint): true
        default: false
        }
    }
}
