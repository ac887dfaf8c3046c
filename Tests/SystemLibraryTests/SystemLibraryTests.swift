import CBLAS
import CCLBlast
import COpenCL
import Testing

/// The system-library targets resolve through pkg-config, their headers import, and their
/// libraries link and answer: the OpenCL backend and the CPU backend build on exactly these.
@Suite struct SystemLibraryTests {
    @Test func openBLASMultipliesAndReportsItsKernel() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        #expect(c == [19, 22, 43, 50])
        #expect(!String(cString: openblas_get_corename()).isEmpty)
    }

    /// The ICD loader links and answers; on a machine with no ICD at all it says so with
    /// CL_PLATFORM_NOT_FOUND_KHR (-1001) instead of crashing. Either answer proves the binding.
    @Test func openCLLoaderAnswers() {
        var platforms: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &platforms)
        #expect(status == CL_SUCCESS || status == -1001, "clGetPlatformIDs returned \(status)")
    }

    @Test func clBlastLinks() {
        // Clearing CLBlast's cache needs no device and succeeds whenever the library is loaded.
        #expect(CLBlastClearCache() == CLBlastSuccess)
    }
}
