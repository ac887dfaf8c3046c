import CBLAS
import FacemineDevice

extension CPUBackend {
    public func gemm(_ op: GEMM, a: Tensor, b: Tensor, c: Tensor) {
        precondition(a.count >= op.elementsA && b.count >= op.elementsB && c.count >= op.elementsC,
                     "GEMM \(op.m)x\(op.n)x\(op.k) x\(op.batchCount) does not fit tensors \(a.shape), \(b.shape), \(c.shape)")
        for i in 0..<op.batchCount {
            sgemm(transposeA: op.transposeA, transposeB: op.transposeB, m: op.m, n: op.n, k: op.k,
                  alpha: op.alpha, a: a.floats + i * op.strideA, lda: op.lda,
                  b: b.floats + i * op.strideB, ldb: op.ldb,
                  beta: op.beta, c: c.floats + i * op.strideC, ldc: op.ldc)
        }
    }
}

/// Row-major SGEMM with explicit leading dimensions, so kernels can multiply sub-blocks of
/// workspaces and tensors in place.
@inline(__always)
func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}
