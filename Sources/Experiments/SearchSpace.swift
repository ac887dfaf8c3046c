import FacemineData
import FacemineNN
import FacemineRandom
import FacemineTraining

/// The settings `facemine tune` searches, as `name=value,value,...` items:
/// `lr=1e-3,3e-4 weight-decay=1e-4,0 batch-size=32,64 dropout=0.3,0.5 optimizer=adam,sgd
/// sampler=off,on augmentation=light,standard`. Grid search takes every combination, random
/// search draws some of them without repeats.
public struct SearchSpace: Equatable, Sendable {
    public var dimensions: [(name: String, values: [String])]

    public static let names = [
        "lr", "weight-decay", "batch-size", "dropout", "optimizer", "sampler", "augmentation", "model", "recipe",
    ]

    public static let standard = try! SearchSpace(parsing: [
        "lr=1e-3,3e-4", "weight-decay=1e-4,0", "dropout=0.3,0.5", "sampler=off,on", "augmentation=light,standard",
    ])

    /// Parses items like `lr=1e-3,3e-4`; every value is checked now, not when its trial runs.
    public init(parsing items: [String]) throws {
        dimensions = []
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, Self.names.contains(parts[0]) else {
                throw DataError(
                    "search space",
                    "'\(item)' is not name=value,value,... with a name among \(Self.names.joined(separator: ", "))")
            }
            let values = parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !values.isEmpty else { throw DataError("search space", "'\(item)' lists no values") }
            guard !dimensions.contains(where: { $0.name == parts[0] }) else {
                throw DataError("search space", "'\(parts[0])' is given twice")
            }
            var probe = TrainingConfiguration()
            for v in values { try Self.apply(parts[0], v, to: &probe) }
            dimensions.append((parts[0], values))
        }
    }

    public static func == (a: SearchSpace, b: SearchSpace) -> Bool {
        a.dimensions.map { "\($0.name)=\($0.values)" } == b.dimensions.map { "\($0.name)=\($0.values)" }
    }

    public var combinationCount: Int { dimensions.reduce(1) { $0 * $1.values.count } }

    /// Every combination (the grid), or `random` of them drawn without repeats by `seed`.
    public func trials(base: TrainingConfiguration, random: Int?, seed: UInt64) throws -> [StudyPlan.Trial] {
        var indices = Array(0..<combinationCount)
        if let random {
            var rng = SeededGenerator(seed: seed, 7)
            indices.shuffle(using: &rng)
            indices = Array(indices.prefix(random)).sorted()
        }
        return try indices.map { index in
            var c = base
            var rest = index, label: [String] = []
            for (name, values) in dimensions.reversed() {
                let value = values[rest % values.count]
                rest /= values.count
                try Self.apply(name, value, to: &c)
                label.insert("\(name)=\(value)", at: 0)
            }
            return StudyPlan.Trial(label: label.joined(separator: " "), configuration: c)
        }
    }

    static func apply(_ name: String, _ value: String, to c: inout TrainingConfiguration) throws {
        func bad() -> DataError { DataError("search space", "'\(value)' is not a valid \(name)") }
        switch name {
        case "lr":
            guard let v = Float(value), v > 0 else { throw bad() }
            c.learningRate = v
        case "weight-decay":
            guard let v = Float(value), v >= 0 else { throw bad() }
            c.weightDecay = v
        case "batch-size":
            guard let v = Int(value), v >= 2 else { throw bad() }
            c.batchSize = v
        case "dropout":
            guard let v = Float(value), v >= 0, v < 1 else { throw bad() }
            c.dropout = v
        case "optimizer":
            guard let v = OptimizerKind(rawValue: value) else { throw bad() }
            c.optimizer = v
        case "sampler":
            guard ["on", "off"].contains(value) else { throw bad() }
            c.weightedSampler = value == "on"
        case "augmentation":
            guard let v = Augmentation.Strength(rawValue: value) else { throw bad() }
            let labToWild = c.augmentation.labToWild
            c.augmentation = Augmentation(v)
            c.augmentation.labToWild = labToWild
        case "model":
            guard let v = Architecture(rawValue: value) else { throw bad() }
            c.model = v
        case "recipe":
            guard let v = Recipe(rawValue: value) else { throw bad() }
            v.apply(to: &c)
        default:
            throw bad()
        }
    }
}
