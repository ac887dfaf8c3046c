import CKernelSupport

/// Which copy of the C kernels runs (Sources/System/CKernelSupport): each is compiled for
/// AVX-512 and for the baseline instruction set.
extension CPUBackend {
    /// AVX-512 here: the kernels' fast copy runs, and the backend picks `direct` by itself.
    static let directConvolutionIsFast = fm_kernels_fast() != 0

    /// Tests: run the kernels' baseline copy even where AVX-512 is available, so both copies are
    /// checked on machines that have it. Per calling thread (the backend's workers follow it in
    /// its loops), so tests running beside one that sets it keep the AVX-512 copy.
    public static func useBaselineDirectKernels(_ yes: Bool) { fm_kernels_use_baseline(yes ? 1 : 0) }

    /// Whether the calling thread forces the baseline copy: what `Parallel` hands to its workers.
    static var baselineKernelsForced: Bool { fm_kernels_baseline_forced() != 0 }
}
