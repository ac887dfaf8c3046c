import FacemineRandom

/// The order in which an epoch visits the training faces.
public protocol Sampler: Sendable {
    /// Indices into the dataset for one epoch; deterministic for a given seed and epoch.
    func indices(epoch: Int) -> [Int]
}

public struct SequentialSampler: Sampler {
    public let count: Int
    public init(count: Int) { self.count = count }
    public func indices(epoch: Int) -> [Int] { Array(0..<count) }
}

/// Every face once per epoch, in a new order each epoch.
public struct ShuffledSampler: Sampler {
    public let count: Int
    public let seed: UInt64
    public init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
    }

    public func indices(epoch: Int) -> [Int] {
        var rng = SeededGenerator(seed: seed, Stream.shuffle.rawValue, UInt64(epoch))
        var order = Array(0..<count)
        order.shuffle(using: &rng)
        return order
    }
}

/// PyTorch's `WeightedRandomSampler(weights, num_samples, replacement=True)`: each epoch draws
/// `samplesPerEpoch` indices independently, index i with probability weights[i] / sum(weights).
public struct WeightedRandomSampler: Sampler {
    public let samplesPerEpoch: Int
    public let seed: UInt64
    private let cumulative: [Double]

    public init(weights: [Double], samplesPerEpoch: Int? = nil, seed: UInt64) {
        precondition(!weights.isEmpty && weights.allSatisfy { $0 >= 0 && $0.isFinite }, "weights must be finite and non-negative")
        var running = 0.0
        cumulative = weights.map {
            running += $0; return running
        }
        precondition(running > 0, "at least one weight must be positive")
        self.samplesPerEpoch = samplesPerEpoch ?? weights.count
        self.seed = seed
    }

    /// The default weights of the seed project: 1 / (count of the face's class), so each class
    /// is drawn equally often.
    public init(balancing labels: [Emotion], seed: UInt64) {
        self.init(weights: ClassBalance.inverseFrequencySampleWeights(labels), seed: seed)
    }

    public func indices(epoch: Int) -> [Int] {
        var rng = SeededGenerator(seed: seed, Stream.sampler.rawValue, UInt64(epoch))
        let total = cumulative.last!
        return (0..<samplesPerEpoch).map { _ in
            let target = rng.unit() * total
            // First index whose cumulative weight exceeds the target (zero weights are never drawn).
            var lo = 0, hi = cumulative.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] > target { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
    }
}

/// Class-frequency weights: for the sampler (per face) or for the loss (per class).
public enum ClassBalance {
    public static func counts(_ labels: [Emotion]) -> [Int] {
        var counts = [Int](repeating: 0, count: Emotion.count)
        for l in labels { counts[l.rawValue] += 1 }
        return counts
    }

    /// weight(face) = 1 / count(face's class).
    public static func inverseFrequencySampleWeights(_ labels: [Emotion]) -> [Double] {
        let c = counts(labels)
        return labels.map { 1 / Double(c[$0.rawValue]) }
    }

    /// Loss weights, the alternative to weighted sampling: N / (classes present x count(class)),
    /// scikit-learn's "balanced" rule, so a balanced set gets weight 1 everywhere. Absent classes
    /// get 0 (they never appear as targets).
    public static func inverseFrequencyLossWeights(_ labels: [Emotion]) -> [Float] {
        let c = counts(labels)
        let present = c.filter { $0 > 0 }.count
        return c.map { $0 == 0 ? 0 : Float(Double(labels.count) / Double(present * $0)) }
    }
}
