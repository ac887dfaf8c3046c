import CWideGEMM
import FacemineDevice

/// The wide GEMM's C entry points (Sources/System/CWideGEMM, `wide_gemm.h`) in facemine's sizes:
/// one wrapper each, converting to C's `int` here and nowhere else.
enum WideGEMM {
    /// Columns of the product per panel of the kernel.
    static let panel = 96

    /// Floats that `packA` writes for an m x k A.
    static func packedAFloats(m: Int, k: Int) -> Int { fm_wide_gemm_packed_a_floats(Int32(m), Int32(k)) }

    /// alpha A (rows `lda` apart, or transposed) packed into 4-row groups.
    static func packA(
        _ a: UnsafePointer<Float>, lda: Int, transposed: Bool, m: Int, k: Int, alpha: Float,
        into packed: UnsafeMutablePointer<Float>
    ) {
        fm_wide_gemm_pack_a(a, Int32(lda), transposed ? 1 : 0, Int32(m), Int32(k), alpha, packed)
    }

    /// C = A B + beta C (+ bias per row): A packed (`packA`), or its rows read in place where
    /// `packedA` is nil; `then`, where given, is the product the caller runs next.
    static func multiply(
        packedA: UnsafePointer<Float>?, rows a: UnsafePointer<Float>? = nil, lda: Int = 0, m: Int, n: Int, k: Int,
        b: fm_view, beta: Float, bias: UnsafePointer<Float>? = nil, c: UnsafeMutablePointer<Float>, ldc: Int,
        then: UnsafePointer<fm_next>? = nil
    ) {
        fm_wide_gemm(packedA, a, Int32(lda), Int32(m), Int32(n), Int32(k), b, beta, bias, c, Int32(ldc), then)
    }
}

extension fm_view {
    /// A row-major matrix with rows `ld` floats apart (or, `transposed`, its transpose with rows
    /// of `width` floats read along).
    static func plain(_ data: UnsafePointer<Float>, ld: Int, transposed: Bool = false, width: Int? = nil) -> fm_view {
        let width = Int32(width ?? ld)
        return fm_view(data: data, ld: ld, transposed: transposed ? 1 : 0, in_width: width, out_width: width, stride: 1)
    }

    /// One image's input as a 1x1 convolution's right operand, [in channels][output pixels]
    /// (or transposed): every stride-th pixel of every stride-th row, so that the subsampling
    /// happens as the kernel packs its panels and x is read once.
    static func pixelsRead(by g: ConvGeometry, in image: UnsafePointer<Float>, transposed: Bool) -> fm_view {
        fm_view(
            data: image, ld: g.height * g.width, transposed: transposed ? 1 : 0, in_width: Int32(g.width),
            out_width: Int32(g.outWidth), stride: Int32(g.stride))
    }
}

extension fm_next {
    /// The product the caller runs next: B, its sizes, and A's rows where they are read in place.
    init(b: fm_view, n: Int, k: Int, rows a: UnsafePointer<Float>? = nil, lda: Int = 0) {
        self.init(b: b, n: Int32(n), k: Int32(k), a: a, lda: Int32(lda))
    }
}
