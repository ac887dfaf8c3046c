import FacemineDevice
import FacemineRandom
import Testing

@Suite struct GEMMTests {
    static let cases: [GEMM] = [
        GEMM(m: 5, n: 7, k: 3),
        GEMM(m: 5, n: 7, k: 3, transposeA: true),
        GEMM(m: 5, n: 7, k: 3, transposeB: true),
        GEMM(m: 33, n: 17, k: 65, transposeA: true, transposeB: true, alpha: 0.5, beta: -1.5),
        GEMM(m: 1, n: 1, k: 1, beta: 1),
        // Wider than tall, as im2col products: the CPU backend's wide kernel with partial
        // 96-column panels, k in blocks of 128 and rows not a multiple of its 4.
        GEMM(m: 13, n: 300, k: 200, transposeA: true, alpha: 0.5, beta: 1),
        GEMM(m: 6, n: 193, k: 130, beta: -1.5),
        // Strided-batched, packed and with gaps between problems.
        GEMM(m: 4, n: 6, k: 5, batchCount: 3),
        GEMM(m: 4, n: 6, k: 5, transposeB: true, alpha: 2, beta: 0.5, batchCount: 3, strideA: 25, strideB: 31, strideC: 30),
        // A shared A for every problem (stride 0), as a layer applied to a batch.
        GEMM(m: 3, n: 8, k: 4, batchCount: 4, strideA: 0),
    ]

    @Test(arguments: BackendUnderTest.all, cases)
    func matchesReference(_ target: BackendUnderTest, _ op: GEMM) throws {
        let backend = try target.make()
        var rng = SeededGenerator(seed: UInt64(op.m * 1000 + op.n * 10 + op.k))
        let a = rng.values(op.elementsA), b = rng.values(op.elementsB), c = rng.values(op.elementsC)
        let ta = try backend.makeTensor([a.count], values: a.floats)
        let tb = try backend.makeTensor([b.count], values: b.floats)
        let tc = try backend.makeTensor([c.count], values: c.floats)
        backend.gemm(op, a: ta, b: tb, c: tc)
        expectClose(try backend.floats(tc), Reference.gemm(op, a: a, b: b, c: c), "GEMM \(op)")
    }
}
