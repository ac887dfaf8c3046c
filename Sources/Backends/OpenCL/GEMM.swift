import CCLBlast
import COpenCL
import FacemineDevice

/// Matrix products through CLBlast's C API, row-major, on the backend's queue.
extension OpenCLBackend {
    public func gemm(_ op: GEMM, a: Tensor, b: Tensor, c: Tensor) {
        OpContract.gemm(op, a, b, c)
        if op.batchCount == 1 {
            gemm(
                transposeA: op.transposeA, transposeB: op.transposeB, m: op.m, n: op.n, k: op.k, alpha: op.alpha,
                a: a.clBuffer, aOffset: 0, b: b.clBuffer, bOffset: 0, beta: op.beta, c: c.clBuffer, cOffset: 0)
            return
        }
        stridedBatchedGEMM(op, a: a.clBuffer, b: b.clBuffer, c: c.clBuffer)
    }

    /// `op.batchCount` products whose operands lie `op.stride*` elements apart in raw buffers.
    func stridedBatchedGEMM(_ op: GEMM, a: cl_mem, b: cl_mem, c: cl_mem) {
        let status = CLBlastSgemmStridedBatched(
            CLBlastLayoutRowMajor, op.transposeA ? CLBlastTransposeYes : CLBlastTransposeNo,
            op.transposeB ? CLBlastTransposeYes : CLBlastTransposeNo,
            op.m, op.n, op.k, op.alpha,
            a, 0, op.lda, op.strideA, b, 0, op.ldb, op.strideB,
            op.beta, c, 0, op.ldc, op.strideC, op.batchCount, &queue, nil)
        recordCLBlast(status, "strided-batched SGEMM \(op.m)x\(op.n)x\(op.k) x\(op.batchCount)")
    }

    /// One dense row-major product on raw buffers with element offsets (convolution's workhorse).
    func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: cl_mem, aOffset: Int, b: cl_mem, bOffset: Int, beta: Float, c: cl_mem, cOffset: Int
    ) {
        let status = CLBlastSgemm(
            CLBlastLayoutRowMajor, transposeA ? CLBlastTransposeYes : CLBlastTransposeNo,
            transposeB ? CLBlastTransposeYes : CLBlastTransposeNo,
            m, n, k, alpha, a, aOffset, transposeA ? m : k, b, bOffset, transposeB ? k : n,
            beta, c, cOffset, n, &queue, nil)
        recordCLBlast(status, "SGEMM \(m)x\(n)x\(k)")
    }

    func recordCLBlast(_ status: CLBlastStatusCode, _ what: String) {
        let code = status.rawValue
        guard code != 0, pendingError == nil else { return }
        if code > -1000 {
            record(cl_int(code), what)
        } else {
            pendingError = .failed("OpenCL: \(what) on \(shared.info.name) failed: \(OpenCLStatus.clblastName(code))")
        }
    }
}
