import CBLAS
import CWideGEMM
import FacemineDevice

extension CPUBackend {
    public func gemm(_ op: GEMM, a: Tensor, b: Tensor, c: Tensor) {
        OpContract.gemm(op, a, b, c)
        let pa = a.floats, pb = b.floats, pc = c.floats
        if op.batchCount >= threads {
            // Enough problems to keep every thread busy with whole products.
            parallel.forEach(op.batchCount) { i in
                sgemm(
                    transposeA: op.transposeA, transposeB: op.transposeB, m: op.m, n: op.n, k: op.k,
                    alpha: op.alpha, a: pa + i * op.strideA, lda: op.lda, b: pb + i * op.strideB, ldb: op.ldb,
                    beta: op.beta, c: pc + i * op.strideC, ldc: op.ldc)
            }
        } else {
            for i in 0..<op.batchCount {
                parallelSGEMM(
                    transposeA: op.transposeA, transposeB: op.transposeB, m: op.m, n: op.n, k: op.k,
                    alpha: op.alpha, a: pa + i * op.strideA, lda: op.lda, b: pb + i * op.strideB, ldb: op.ldb,
                    beta: op.beta, c: pc + i * op.strideC, ldc: op.ldc)
            }
        }
    }

    /// One product spread over the backend's threads: on AVX-512 CPUs through the wide kernel
    /// where its shapes apply (below), else C is cut into blocks of rows (or of columns, when it
    /// is wider than tall), each computed by single-threaded BLAS.
    /// OpenBLAS itself always runs single-threaded (see `CPUBackend.init`), so facemine's
    /// threads are the only ones doing work and nothing waits on or competes with BLAS workers.
    func parallelSGEMM(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // Blocks of fewer than ~64 rows or columns waste the BLAS micro-kernel; small products run whole.
        let minimumBlock = 64
        if n >= m && !transposeB && k > 0 && CPUBackend.directConvolutionIsFast {
            wideSGEMM(
                transposeA: transposeA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc)
        } else if transposeB && !transposeA && alpha == 1 && k > 0 && CPUBackend.directConvolutionIsFast {
            wideSGEMMTransposedB(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        } else if n >= m {
            parallel.forRanges(n, grain: minimumBlock) { cols in
                let j = cols.lowerBound
                sgemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: cols.count, k: k, alpha: alpha,
                    a: a, lda: lda, b: transposeB ? b + j * ldb : b + j, ldb: ldb,
                    beta: beta, c: c + j, ldc: ldc)
            }
        } else {
            parallel.forRanges(m, grain: minimumBlock) { rows in
                let i = rows.lowerBound
                sgemm(
                    transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: alpha,
                    a: transposeA ? a + i : a + i * lda, lda: lda, b: b, ldb: ldb,
                    beta: beta, c: c + i * ldc, ldc: ldc)
            }
        }
    }
}

extension CPUBackend {
    /// A product at least as wide as it is tall, B not transposed, through the wide kernel: A
    /// packed once, then whole panels to each thread: OpenBLAS packs all of B, which costs more
    /// than the product on im2col shapes with 32-128 rows (docs/BENCHMARKS.md, "CPU kernel notes").
    func wideSGEMM(
        transposeA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let packed = workspace.floats(.packedA, count: WideGEMM.packedAFloats(m: m, k: k))
        WideGEMM.packA(a, lda: lda, transposed: transposeA, m: m, k: k, alpha: alpha, into: packed)
        forWidePanels(n) { first, columns in
            WideGEMM.multiply(
                packedA: packed, m: m, n: columns, k: k, b: .plain(b + first, ld: ldb), beta: beta, c: c + first, ldc: ldc)
        }
    }

    /// C = A B^T + beta C (weight gradients: dY times the im2col matrix, both along pixels)
    /// through the wide kernel: A's rows read in place, B's panels transposed as they are
    /// packed. Threads take column panels, or blocks of 4-row groups when C is taller than wide.
    func wideSGEMMTransposedB(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
        ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let view = { (rows: UnsafePointer<Float>) in fm_view.plain(rows, ld: ldb, transposed: true, width: k) }
        if n >= m {
            forWidePanels(n) { first, columns in
                WideGEMM.multiply(
                    packedA: nil, rows: a, lda: lda, m: m, n: columns, k: k, b: view(b + first * ldb), beta: beta,
                    c: c + first, ldc: ldc)
            }
        } else {
            parallel.forRanges((m + 3) / 4) { groups in
                let first = groups.lowerBound * 4, rows = Swift.min(groups.upperBound * 4, m) - first
                WideGEMM.multiply(
                    packedA: nil, rows: a + first * lda, lda: lda, m: rows, n: n, k: k, b: view(b), beta: beta,
                    c: c + first * ldc, ldc: ldc)
            }
        }
    }

    /// Columns 0..<n in whole panels over the threads: body(first column, column count).
    private func forWidePanels(_ n: Int, _ body: (_ first: Int, _ columns: Int) -> Void) {
        let panels = (n + WideGEMM.panel - 1) / WideGEMM.panel
        parallel.forRanges(panels) { range in
            let first = range.lowerBound * WideGEMM.panel
            body(first, Swift.min(range.upperBound * WideGEMM.panel, n) - first)
        }
    }
}

/// Row-major single-threaded SGEMM with explicit leading dimensions, so kernels can multiply
/// sub-blocks of workspaces and tensors in place.
@inline(__always)
func sgemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
        transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
        beta, c, Int32(ldc))
}
