/// What `facemine bench` measures.
public struct BenchOptions: Sendable {
    /// Batch size of the per-op shapes.
    public var opBatch = 64
    /// Batch sizes of the end-to-end training and inference timings.
    public var modelBatches = [32, 128]
    public var repeats = 5
    public var warmUp = 2
    /// Only shapes and models whose name contains this text (case-insensitive).
    public var modelFilter: String?
    public var includeOps = true
    public var includeModels = true
    /// CPU backend threads (nil: FACEMINE_THREADS or all cores).
    public var threads: Int?

    public init() {}

    /// The CI configuration: proves every part runs and the JSON is valid, times nothing useful.
    public static var quick: BenchOptions {
        var o = BenchOptions()
        o.opBatch = 2
        o.modelBatches = [2]
        o.repeats = 1
        o.warmUp = 0
        return o
    }

    func selects(_ name: String) -> Bool {
        modelFilter.map { name.localizedCaseInsensitiveContains($0) } ?? true
    }
}
