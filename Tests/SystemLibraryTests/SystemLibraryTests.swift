import CBLAS
import CCLBlast
import COpenCL
import Testing

/// The system-library targets resolve through pkg-config, their headers import, and their
/// libraries link and answer: the OpenCL backend and the CPU backend build on exactly these.
/// (The OpenCL loader itself is exercised by OpenCLTests, which must find PoCL's device.)
@Suite struct SystemLibraryTests {
    @Test func openBLASMultipliesAndReportsItsKernel() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        #expect(c == [19, 22, 43, 50])
        #expect(!String(cString: openblas_get_corename()).isEmpty)
    }

    @Test func clBlastLinks() {
        // Clearing CLBlast's cache needs no device and succeeds whenever the library is loaded.
        #expect(CLBlastClearCache() == CLBlastSuccess)
    }
}
