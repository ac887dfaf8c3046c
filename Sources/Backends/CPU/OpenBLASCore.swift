import CBLAS
import CPeak
import Foundation

/// OpenBLAS picks its kernels by recognising the processor, and a release that does not know a
/// new one falls back to a generic kernel without saying so: Debian 12's OpenBLAS 0.3.21 took
/// its SSE3 "Prescott" kernel on a virtual machine's recent Xeon (AVX-512), and trained
/// ResNet-18 2.8x slower than with its SkylakeX kernel on the same 16 cores. The choice is made
/// when the library loads, so the only remedy is the OPENBLAS_CORETYPE variable before start-up:
/// `facemine` sets it and starts itself again, once, and only when nobody set it already.
public enum OpenBLASCore {
    /// Kernels OpenBLAS falls back to on processors it does not recognise, all older than AVX2.
    static let fallbacks: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom",
        "katmai", "northwood", "banias", "sandybridge", "barcelona",
    ]
    /// Set by the restart to the kernel OpenBLAS had picked, so that the device description can say so.
    static let replacedVariable = "FACEMINE_OPENBLAS_REPLACED"

    /// The kernel to ask for instead of the one OpenBLAS picked, or nil if its pick is fine.
    public static func better(
        than picked: String = String(cString: openblas_get_corename()),
        fmaLanes: Int = Int(fm_fma_lanes())
    ) -> String? {
        guard fallbacks.contains(picked.lowercased()) else { return nil }
        switch fmaLanes {
        case 16: return "SkylakeX"
        case 8: return "Haswell"
        default: return nil
        }
    }

    /// Restarts this process with OPENBLAS_CORETYPE set when OpenBLAS fell back to an old kernel
    /// on a processor with AVX2 or AVX-512. Returns (and the process goes on as it is) when no
    /// restart is needed or the restart fails.
    public static func restartWithBetterKernelIfNeeded() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let core = better() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(replacedVariable, String(cString: openblas_get_corename()), 1)
        let arguments = CommandLine.unsafeArgv
        execv("/proc/self/exe", arguments)
        unsetenv("OPENBLAS_CORETYPE")  // exec failed: carry on with OpenBLAS's own choice
        unsetenv(replacedVariable)
    }

    /// " (facemine asked for it: OpenBLAS had picked Prescott)" after a restart, else "".
    static var note: String {
        guard let replaced = getenv(replacedVariable) else { return "" }
        return "; facemine asked for it: OpenBLAS had picked \(String(cString: replaced))"
    }
}
