/// The sizes of one 2-D convolution. Square kernels only: every model facemine trains
/// (MyCNN, both ResNet-18 stems) uses them, and one number per hyper-parameter keeps every
/// backend's index arithmetic short.
public struct ConvGeometry: Equatable, Sendable, CustomStringConvertible {
    public let batch: Int
    public let inChannels: Int
    public let height: Int
    public let width: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public init(
        batch: Int, inChannels: Int, height: Int, width: Int,
        outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0
    ) {
        precondition(batch > 0 && inChannels > 0 && outChannels > 0, "empty convolution")
        precondition(kernel > 0 && stride > 0 && padding >= 0, "bad kernel/stride/padding")
        precondition(
            height + 2 * padding >= kernel && width + 2 * padding >= kernel,
            "kernel \(kernel) larger than padded input \(height)x\(width)")
        self.batch = batch
        self.inChannels = inChannels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }

    public var inputShape: [Int] { [batch, inChannels, height, width] }
    public var weightShape: [Int] { [outChannels, inChannels, kernel, kernel] }
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }

    /// The GEMM this convolution is equivalent to (im2col view): M = out channels,
    /// N = batch x output pixels, K = in channels x kernel area.
    public var gemmM: Int { outChannels }
    public var gemmN: Int { batch * outHeight * outWidth }
    public var gemmK: Int { inChannels * kernel * kernel }

    /// Multiply-adds counted twice, the usual convention; forward, grad-input and grad-weight
    /// each cost this much as an im2col product (padding taps included).
    public var flops: Double { 2 * Double(gemmM) * Double(gemmN) * Double(gemmK) }

    /// The same without the taps that fall in the padding: the work a convolution must do.
    /// Benchmarks report GFLOP/s and % of peak on this, so an algorithm that skips the padding
    /// is not credited with work it does not do (on a 2x2 map a 3x3 kernel reads 4 of 9 taps).
    public var usefulFlops: Double {
        func validTaps(_ size: Int, _ outSize: Int) -> Int {
            (0..<outSize).reduce(0) { total, o in
                total + (0..<kernel).filter { k in (0..<size).contains(o * stride - padding + k) }.count
            }
        }
        return 2 * Double(batch * outChannels * inChannels) * Double(validTaps(height, outHeight) * validTaps(width, outWidth))
    }

    public var description: String {
        "conv \(inChannels)->\(outChannels) k\(kernel) s\(stride) p\(padding) on \(batch)x\(height)x\(width)"
    }
}

/// The sizes of one 2-D max pooling (square window, implicit -infinity padding as PyTorch).
public struct PoolGeometry: Equatable, Sendable {
    public let batch: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public init(
        batch: Int, channels: Int, height: Int, width: Int,
        kernel: Int, stride: Int, padding: Int = 0
    ) {
        precondition(kernel > 0 && stride > 0 && padding >= 0, "bad pooling window")
        precondition(padding * 2 <= kernel, "padding must be at most half the window (as PyTorch)")
        precondition(
            height + 2 * padding >= kernel && width + 2 * padding >= kernel,
            "window \(kernel) larger than padded input \(height)x\(width)")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    public var inputShape: [Int] { [batch, channels, height, width] }
    public var outputShape: [Int] { [batch, channels, outHeight, outWidth] }
}

/// A row-major matrix product C = alpha * op(A) * op(B) + beta * C, repeated `batchCount`
/// times with fixed element strides between the matrices of consecutive problems.
/// op(A) is m x k, op(B) is k x n, C is m x n; every matrix is densely packed.
public struct GEMM: Equatable, Sendable {
    public var transposeA: Bool
    public var transposeB: Bool
    public var m: Int
    public var n: Int
    public var k: Int
    public var alpha: Float
    public var beta: Float
    public var batchCount: Int
    public var strideA: Int
    public var strideB: Int
    public var strideC: Int

    public init(
        m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0, batchCount: Int = 1,
        strideA: Int? = nil, strideB: Int? = nil, strideC: Int? = nil
    ) {
        precondition(m > 0 && n > 0 && k > 0 && batchCount > 0, "empty GEMM")
        self.m = m
        self.n = n
        self.k = k
        self.transposeA = transposeA
        self.transposeB = transposeB
        self.alpha = alpha
        self.beta = beta
        self.batchCount = batchCount
        self.strideA = strideA ?? m * k
        self.strideB = strideB ?? k * n
        self.strideC = strideC ?? m * n
    }

    /// Leading dimensions implied by dense row-major storage.
    public var lda: Int { transposeA ? m : k }
    public var ldb: Int { transposeB ? k : n }
    public var ldc: Int { n }

    public var elementsA: Int { strideA * (batchCount - 1) + m * k }
    public var elementsB: Int { strideB * (batchCount - 1) + k * n }
    public var elementsC: Int { strideC * (batchCount - 1) + m * n }
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(batchCount) }
}
