import Dispatch
import FacemineDevice

/// The convolution algorithms of the CPU backend. Which one is fastest depends on the shape;
/// the op benchmark (docs/BENCHMARKS.md) times all that apply, and `init(_:threads:)` encodes
/// what it showed. Algorithms that lost on every shape were deleted; what they were and the
/// numbers they lost by are in docs/BENCHMARKS.md ("CPU kernel notes").
public enum ConvAlgorithm: String, CaseIterable, Sendable {
    /// Per-image im2col bands times the weights, single-threaded BLAS per thread; for large planes.
    case imagewise
    /// Chunks of images side by side in one wide product split over the threads; for small planes.
    case batched
    /// No im2col: each output sums only the taps inside the input (`DirectConvolution.swift`);
    /// 3x3 kernels on the plane sizes 48x48 faces lead to, 1x1 stride-2 shortcuts from 6x6 and
    /// 3x3 planes, 16-channel multiples; and one-channel first layers on 48x48, 3x3 and the 7x7
    /// stride-2 stem (`FirstLayerConvolution.swift`).
    case direct
    /// 1x1 kernels without padding, one product per image with no im2col (at stride 2, x
    /// subsampled); `PointwiseConvolution.swift`.
    case pointwise

    /// Per-image products win clearly from 24x24 output planes up; at 12x12 the two algorithms
    /// trade places from run to run, and below that one image's product is too narrow for BLAS.
    /// They also need at least one image per thread.
    public static let imagewiseMinimumPlane = 256

    /// The algorithm the backend uses for a shape. `direct`, then `pointwise`, wherever they
    /// apply and the CPU has AVX-512 (their baseline copies are for correctness elsewhere, not
    /// speed).
    public init(_ g: ConvGeometry, threads: Int) {
        if ConvAlgorithm.direct.applies(to: g) && CPUBackend.directConvolutionIsFast {
            self = .direct
            return
        }
        if ConvAlgorithm.pointwise.applies(to: g) && CPUBackend.directConvolutionIsFast {
            self = .pointwise
            return
        }
        let largePlanes = g.outHeight * g.outWidth >= ConvAlgorithm.imagewiseMinimumPlane
        self = largePlanes && g.batch >= threads ? .imagewise : .batched
    }

    /// Whether the algorithm can run this shape at all.
    public func applies(to g: ConvGeometry) -> Bool {
        switch self {
        case .imagewise, .batched: return true
        case .direct: return DirectKernels(g) != nil || CPUBackend.firstLayerApplies(g)
        case .pointwise: return CPUBackend.pointwiseApplies(g)
        }
    }
}

/// How long each convolution took inside real training steps (`facemine-opbench --in-model`):
/// an op timed alone, with its operands hot in cache, can mislead about its share of a step.
public final class ConvolutionLog {
    public struct Entry: Sendable {
        public let geometry: ConvGeometry
        public let backward: Bool
        public let seconds: Double
    }
    public private(set) var entries: [Entry] = []
    public init() {}

    func timed(_ g: ConvGeometry, backward: Bool, _ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        entries.append(
            Entry(geometry: g, backward: backward, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
    }
}

extension CPUBackend {
    public func conv2dForward(_ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor) {
        let algorithm = ConvAlgorithm(g, threads: threads)
        guard let convolutionLog else {
            return conv2dForward(g, input: input, weight: weight, bias: bias, output: output, algorithm: algorithm)
        }
        convolutionLog.timed(g, backward: false) {
            conv2dForward(g, input: input, weight: weight, bias: bias, output: output, algorithm: algorithm)
        }
    }

    public func conv2dBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor,
        gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor?
    ) {
        let algorithm = ConvAlgorithm(g, threads: threads)
        guard let convolutionLog else {
            return conv2dBackward(
                g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
                gradWeight: gradWeight, gradBias: gradBias, algorithm: algorithm)
        }
        convolutionLog.timed(g, backward: true) {
            conv2dBackward(
                g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
                gradWeight: gradWeight, gradBias: gradBias, algorithm: algorithm)
        }
    }

    /// Runs a chosen algorithm; tests and the op benchmark call this to compare them on one shape.
    public func conv2dForward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, bias: Tensor?,
        output: Tensor, algorithm: ConvAlgorithm
    ) {
        OpContract.convForward(g, input: input, weight: weight, bias: bias, output: output)
        let x = input.floats, w = weight.floats, b = bias?.floats, y = output.floats
        switch algorithm {
        case .imagewise: imagewiseConvForward(g, input: x, weight: w, bias: b, output: y)
        case .batched: batchedConvForward(g, input: x, weight: w, bias: b, output: y)
        case .direct: directConvForward(g, input: x, weight: w, bias: b, output: y)
        case .pointwise: pointwiseConvForward(g, input: x, weight: w, bias: b, output: y)
        }
    }

    public func conv2dBackward(
        _ g: ConvGeometry, input: Tensor, weight: Tensor, gradOutput: Tensor,
        gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor?,
        algorithm: ConvAlgorithm
    ) {
        OpContract.convBackward(
            g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
            gradWeight: gradWeight, gradBias: gradBias)
        let x = input.floats, w = weight.floats, dy = gradOutput.floats
        let dx = gradInput?.floats, dw = gradWeight.floats, db = gradBias?.floats
        switch algorithm {
        case .imagewise:
            imagewiseConvBackward(g, input: x, weight: w, gradOutput: dy, gradInput: dx, gradWeight: dw, gradBias: db)
        case .batched: batchedConvBackward(g, input: x, weight: w, gradOutput: dy, gradInput: dx, gradWeight: dw, gradBias: db)
        case .direct: directConvBackward(g, input: x, weight: w, gradOutput: dy, gradInput: dx, gradWeight: dw, gradBias: db)
        case .pointwise:
            pointwiseConvBackward(g, input: x, weight: w, gradOutput: dy, gradInput: dx, gradWeight: dw, gradBias: db)
        }
    }
}
