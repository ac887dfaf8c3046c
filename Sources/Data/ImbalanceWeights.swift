/// Weights for the imbalance tools: who gets drawn how often, and how much each class's loss
/// counts. Each takes the training faces' labels (and sources) and returns one number per face
/// or per class.
public enum ImbalanceWeights {
    /// Tempered sampling: face weight count(class)^-alpha. alpha = 1 balances classes exactly
    /// (PyTorch's 1/count WeightedRandomSampler), alpha = 0 is plain shuffling, and in between
    /// rare classes are drawn more often without being repeated as many times.
    public static func tempered(_ labels: [Emotion], alpha: Double) -> [Double] {
        let c = ClassBalance.counts(labels)
        return labels.map { pow(Double(c[$0.rawValue]), -alpha) }
    }

    /// Sampling balanced over (source, class) cells: each non-empty cell aims at the same share
    /// of one dataset's worth of draws per epoch, but a cell is drawn at most `cap` times its
    /// size (so 48 contempt faces are not each repeated a hundred times) and at least `floor`
    /// times its size (so the large cells keep most of their faces); what the bounds take from
    /// or give to a cell is shared among the others. Face weight = the cell's draws / its size.
    public static func cellBalanced(_ labels: [Emotion], sources: [DataSource], floor: Double, cap: Double) -> [Double] {
        precondition(labels.count == sources.count && floor >= 0 && cap >= floor)
        var sizes: [String: Int] = [:]
        func cell(_ i: Int) -> String { "\(sources[i].rawValue)|\(labels[i].rawValue)" }
        for i in labels.indices { sizes[cell(i), default: 0] += 1 }
        // Water-filling: the common share s for which the clamped draws add up to one dataset's
        // worth per epoch (the sum grows with s, so bisection finds it).
        let total = Double(labels.count)
        func draws(_ s: Double) -> [String: Double] { sizes.mapValues { n in min(max(s, floor * Double(n)), cap * Double(n)) } }
        var lo = 0.0, hi = total
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if draws(mid).values.reduce(0, +) < total { lo = mid } else { hi = mid }
        }
        let result = draws(hi)
        return labels.indices.map { result[cell($0)]! / Double(sizes[cell($0)]!) }
    }

    /// Class-balanced loss weights from the "effective number of samples" (Cui et al., CVPR 2019):
    /// w_c proportional to (1 - beta) / (1 - beta^n_c), normalised to mean 1 over present classes.
    /// beta -> 0 is no weighting, beta -> 1 is inverse frequency.
    public static func effectiveNumber(_ labels: [Emotion], beta: Double = 0.999) -> [Float] {
        let c = ClassBalance.counts(labels)
        let raw = c.map { $0 == 0 ? 0 : (1 - beta) / (1 - pow(beta, Double($0))) }
        let present = raw.filter { $0 > 0 }
        let mean = present.reduce(0, +) / Double(max(present.count, 1))
        return raw.map { Float($0 / mean) }
    }

    /// log of each class's share of the training faces (the prior logit adjustment adds, scaled
    /// by tau; Menon et al., ICLR 2021). Absent classes get the log of half a face's share, so
    /// the adjustment stays finite.
    public static func logPriors(_ labels: [Emotion]) -> [Float] {
        let c = ClassBalance.counts(labels)
        return c.map { Float(log(Double(max($0 == 0 ? 0.5 : Double($0), 0.5)) / Double(labels.count))) }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
