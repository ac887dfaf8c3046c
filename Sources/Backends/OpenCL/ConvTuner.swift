import FacemineDevice
import Foundation

/// The OpenCL backend's ways to run a convolution. Which is fastest depends on the device and
/// the layer's shape (a 64 x 64 tile leaves most of a large GPU idle on a 2x2 plane; CLBlast's
/// tuned GEMM may beat a gather-as-you-go kernel on a large one), so the backend times them on
/// the device (`ConvTuner`).
public enum OpenCLConvAlgorithm: String, CaseIterable, Sendable {
    /// im2col columns in global memory and one CLBlast GEMM per chunk of images.
    case im2col
    /// Implicit GEMM (Kernels/implicit_conv.cl): no column matrix, 64 x 64 tiles.
    case implicit64 = "implicit-64"
    /// The same in 32 x 32 tiles: four times the work-groups, for layers that 64 x 64 tiles
    /// leave too few of to fill a device.
    case implicit32 = "implicit-32"
    /// Winograd F(2x2, 3x3) (Kernels/winograd.cl) for 3x3 layers of stride 1 and padding 1:
    /// 2.25 times fewer multiplications in the forward pass and the input gradient, which it
    /// computes the same way; the weight gradient goes through im2col.
    case winograd

    /// Whether the algorithm can run the layer (Winograd: 3x3, stride 1, padding 1 only).
    public func runs(_ g: ConvGeometry) -> Bool {
        self != .winograd || (g.kernel == 3 && g.stride == 1 && g.padding == 1)
    }

    /// The candidates the tuner times for a layer.
    public static func candidates(for g: ConvGeometry) -> [OpenCLConvAlgorithm] { allCases.filter { $0.runs(g) } }
}

/// Which algorithm runs each convolution shape on one device: each candidate is timed on the
/// device at the shape's first use, and the fastest kept, in memory and in a file beside the
/// compiled kernels (keyed by platform, device, driver and kernel source), so that later runs
/// time nothing, and no shape runs slower than its fastest candidate, the im2col + CLBlast
/// path included.
final class ConvTuner: @unchecked Sendable {
    enum Pass: String, Sendable {
        case forward, backward
    }

    /// The file the choices are kept in; nil keeps them in memory only.
    let file: URL?
    private let lock = NSLock()
    private var choices: [String: OpenCLConvAlgorithm] = [:]
    /// Shapes timed by this tuner (not read from its file): what tests count.
    private(set) var timedShapes = 0

    init(file: URL?) {
        self.file = file
        guard let file, let data = try? Data(contentsOf: file),
            let stored = try? JSONDecoder().decode([String: String].self, from: data)
        else { return }
        // A name this version does not know (an older or newer facemine's) is timed again.
        choices = stored.compactMapValues { OpenCLConvAlgorithm(rawValue: $0) }
    }

    static func key(_ g: ConvGeometry, _ pass: Pass) -> String {
        "\(pass.rawValue) batch \(g.batch) in \(g.inChannels)x\(g.height)x\(g.width) out \(g.outChannels) "
            + "kernel \(g.kernel) stride \(g.stride) padding \(g.padding)"
    }

    /// Every choice made so far, by shape.
    var table: [String: OpenCLConvAlgorithm] {
        lock.lock()
        defer { lock.unlock() }
        return choices
    }

    /// The algorithm for a shape: the kept one, or the candidate with the least `seconds`,
    /// which runs it on the device (the caller's operands: each candidate overwrites the same
    /// outputs, and the caller then runs the winner).
    func algorithm(
        for g: ConvGeometry, _ pass: Pass, seconds: (OpenCLConvAlgorithm) -> Double
    ) -> OpenCLConvAlgorithm {
        let key = Self.key(g, pass)
        lock.lock()
        if let known = choices[key] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let timed = OpenCLConvAlgorithm.candidates(for: g).map { ($0, seconds($0)) }
        let best = timed.min { $0.1 < $1.1 }!.0
        lock.lock()
        choices[key] = best
        timedShapes += 1
        let snapshot = choices
        lock.unlock()
        save(snapshot)
        return best
    }

    /// Atomically (a temp file renamed), so a killed run or a second process never leaves half a table.
    private func save(_ snapshot: [String: OpenCLConvAlgorithm]) {
        guard let file else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(snapshot.mapValues(\.rawValue)) else { return }
        ProgramCache.write([UInt8](data), to: file)
    }
}
