import FacemineCPU
import FacemineDevice
import FacemineRandom
import Testing

/// The wide GEMM kernel (products wider than tall with B not transposed, or B transposed and A
/// not) in both its copies against a plain triple loop in double precision: panel edges
/// (columns not a multiple of 16 or 96), row groups with padding rows, several k blocks, A
/// transposed, and every beta case (0 must not read C, which starts as NaN there).
@Suite struct WideGEMMTests {
    static let cases: [GEMM] = [
        GEMM(m: 4, n: 96, k: 1),
        GEMM(m: 7, n: 211, k: 129),
        GEMM(m: 12, n: 400, k: 300, transposeA: true, alpha: -0.75, beta: 1),
        GEMM(m: 33, n: 97, k: 257, beta: 0.5),
        GEMM(m: 64, n: 1000, k: 9, transposeA: true),
        // B transposed (A read in place): wider than tall, and taller than wide (row groups
        // split over the threads, the last one partial).
        GEMM(m: 9, n: 150, k: 300, transposeB: true, beta: 1),
        GEMM(m: 70, n: 20, k: 131, transposeB: true),
    ]

    @Test(arguments: cases, [false, true])
    func matchesTripleLoop(_ op: GEMM, baseline: Bool) throws {
        CPUBackend.useBaselineDirectKernels(baseline)
        defer { CPUBackend.useBaselineDirectKernels(false) }
        let backend = CPUBackend(threads: 3)
        var generator = SeededGenerator(seed: UInt64(op.m * 31 + op.n * 7 + op.k))
        func values(_ n: Int) -> [Float] { generator.signedFloats(n) }
        let a = values(op.m * op.k), b = values(op.k * op.n)
        let c = op.beta == 0 ? [Float](repeating: .nan, count: op.m * op.n) : values(op.m * op.n)
        let ta = try backend.makeTensor([a.count], values: a), tb = try backend.makeTensor([b.count], values: b)
        let tc = try backend.makeTensor([c.count], values: c)
        backend.gemm(op, a: ta, b: tb, c: tc)
        let got = try backend.floats(tc)
        for i in 0..<op.m {
            for j in 0..<op.n {
                var sum = 0.0
                for l in 0..<op.k {
                    let av = op.transposeA ? a[l * op.m + i] : a[i * op.k + l]
                    let bv = op.transposeB ? b[j * op.k + l] : b[l * op.n + j]
                    sum += Double(av) * Double(bv)
                }
                let expected = Double(op.alpha) * sum + (op.beta == 0 ? 0 : Double(op.beta) * Double(c[i * op.n + j]))
                let tolerance = 1e-4 * (1 + Double(op.k).squareRoot())
                #expect(abs(Double(got[i * op.n + j]) - expected) <= tolerance, "C[\(i), \(j)] of \(op), baseline \(baseline)")
            }
        }
    }
}
