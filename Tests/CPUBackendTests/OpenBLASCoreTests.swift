import FacemineCPU
import Testing

/// The decision behind facemine's restart with OPENBLAS_CORETYPE: replace only the generic
/// kernels OpenBLAS falls back to, and only by one the processor can run.
@Suite struct OpenBLASCoreTests {
    @Test func genericFallbacksAreReplacedByTheWidestKernelTheProcessorRuns() {
        #expect(OpenBLASCore.better(than: "Prescott", fmaLanes: 16) == "SkylakeX")
        #expect(OpenBLASCore.better(than: "Core2", fmaLanes: 8) == "Haswell")
        #expect(OpenBLASCore.better(than: "Nehalem", fmaLanes: 0) == nil)  // no FMA: nothing better to ask for
    }

    @Test func recognisedProcessorsKeepOpenBLASsChoice() {
        for picked in ["Haswell", "SkylakeX", "Cooperlake", "Zen", "SapphireRapids"] {
            #expect(OpenBLASCore.better(than: picked, fmaLanes: 16) == nil, "\(picked)")
        }
    }
}
