import FacemineData

/// Chooses the post-hoc logit adjustment's tau for a trained model on its validation faces.
///
/// A fixed tau of 1 (the textbook choice) buys rare classes with too much accuracy on
/// FER-2013 + CK+, and the right amount depends on how far the model already leans to the
/// common classes, which only held-out faces show. So the tau is the one of `candidates` with the
/// best validation macro-F1 among those that keep validation accuracy within `accuracyCost`
/// of no adjustment: the rule a default recipe must meet (docs/RESULTS.md). The smaller tau wins
/// ties, so a model that needs no adjustment keeps 0.
public enum PosthocCalibration {
    public static let candidates: [Float] = (0...20).map { Float($0) / 10 }
    public static let accuracyCost = 0.01

    /// `probabilities`: [faces x 8] before adjustment; `labels`: each face's class; `scoring`
    /// turns the probabilities and a tau into what the faces are scored by (`Predictor.scored`:
    /// the adjustment with the training faces' class priors, then each face's source's classes).
    public static func choose(
        probabilities: [Double], labels: [Int], scoring: ([Double], Float) -> [Double]
    ) -> Float {
        precondition(
            probabilities.count == labels.count * Emotion.count, "\(labels.count) labels for \(probabilities.count) probabilities"
        )
        guard !labels.isEmpty else { return 0 }
        let scored = candidates.map { tau in (tau: tau, confusion: confusion(scoring(probabilities, tau), labels)) }
        let floor = scored[0].confusion.accuracy - accuracyCost
        var best = scored[0]
        for s in scored.dropFirst() where s.confusion.accuracy >= floor && s.confusion.macroF1 > best.confusion.macroF1 {
            best = s
        }
        return best.tau
    }

    static func confusion(_ probabilities: [Double], _ labels: [Int]) -> ConfusionMatrix {
        let classes = Emotion.count
        var m = ConfusionMatrix()
        for (row, truth) in labels.enumerated() {
            let p = probabilities[(row * classes)..<((row + 1) * classes)]
            m.add(truth: truth, prediction: p.indices.max { p[$0] < p[$1] }! - row * classes)
        }
        return m
    }
}
