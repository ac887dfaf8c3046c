import FacemineData
import FacemineDevice
import FacemineNN
import Foundation

/// What a trained model predicts for faces, the one way `evaluate`, training's validation and
/// `predict` all use: the softmax averaged over the test-time views (`--tta`), then the
/// post-hoc logit adjustment (`--posthoc-adjustment`), renormalised. The same faces give the
/// same probabilities in all three; where a face's source is known (`evaluate`, validation),
/// it is then scored over its source's classes (`SourceClasses`).
public final class Predictor {
    let model: any Classifier
    let backend: any Backend
    public let tta: TestTimeAugmentation
    let shift: Int
    /// The post-hoc adjustment's tau (0: off).
    public var posthocAdjustment: Float
    /// log of each class's share of the training faces.
    let logPriors: [Float]
    /// Each source's classes in the training faces (nil: every face scored over all eight).
    public var sourceClasses: SourceClasses?
    private var inputs: [Int: Tensor] = [:]

    public init(
        model: any Classifier, backend: any Backend, tta: TestTimeAugmentation, shift: Int,
        posthocAdjustment: Float = 0, logPriors: [Float] = [], sourceClasses: SourceClasses? = nil
    ) {
        self.model = model
        self.backend = backend
        self.tta = tta
        self.shift = shift
        precondition(posthocAdjustment == 0 || logPriors.count == Emotion.count, "post-hoc adjustment needs the class priors")
        self.posthocAdjustment = posthocAdjustment
        self.logPriors = logPriors
        self.sourceClasses = sourceClasses
    }

    /// The predictor a checkpoint's configuration and state describe; `tta` overrides the
    /// configuration's. Post-hoc adjustment uses the class priors of the run's training faces,
    /// and the tau calibrated for these weights when the run chose one.
    public convenience init(
        model: any Classifier, backend: any Backend, configuration c: TrainingConfiguration,
        state: TrainingState, tta: TestTimeAugmentation? = nil
    ) {
        self.init(
            model: model, backend: backend, tta: tta ?? c.tta, shift: c.ttaShift,
            posthocAdjustment: state.posthocAdjustment ?? c.posthocAdjustment, logPriors: state.classLogPriors ?? [],
            sourceClasses: state.sourceClasses)
    }

    /// Class probabilities [count x 8] of `count` normalised faces (NCHW 48x48), row by row.
    public func probabilities(_ images: [Float], count: Int) throws -> [Double] {
        adjusted(try viewAveraged(images, count: count), tau: posthocAdjustment)
    }

    /// What faces of known `sources` are scored by: the post-hoc adjustment with `tau`, then each
    /// face restricted to its source's classes (`SourceClasses`).
    public func scored(_ probabilities: [Double], tau: Float, sources: [DataSource]) -> [Double] {
        let p = adjusted(probabilities, tau: tau)
        return sourceClasses?.restrict(p, sources: sources) ?? p
    }

    /// Post-hoc adjustment with this predictor's class priors.
    public func adjusted(_ probabilities: [Double], tau: Float) -> [Double] {
        Predictor.adjusted(probabilities, tau: tau, logPriors: logPriors)
    }

    /// Post-hoc adjustment as a reweighting of probabilities [rows x 8] by exp(-tau x log prior),
    /// renormalised: softmax(logits - tau x log prior) for a single view.
    public static func adjusted(_ probabilities: [Double], tau: Float, logPriors: [Float]) -> [Double] {
        guard tau > 0 else { return probabilities }
        precondition(logPriors.count == Emotion.count, "post-hoc adjustment needs the class priors")
        let classes = Emotion.count
        let factors = logPriors.map { exp(-Double(tau) * Double($0)) }
        var out = probabilities
        for row in 0..<(out.count / classes) {
            var total = 0.0
            for c in 0..<classes { out[row * classes + c] *= factors[c]; total += out[row * classes + c] }
            for c in 0..<classes { out[row * classes + c] /= total }
        }
        return out
    }

    /// The softmax averaged over the test-time views, before any adjustment.
    public func viewAveraged(_ images: [Float], count: Int) throws -> [Double] {
        let classes = Emotion.count
        let black = (0 - PrefetchingBatcher.mean) / PrefetchingBatcher.std
        var sums = [Double](repeating: 0, count: count * classes)
        let views = tta.views(of: images, count: count, shift: shift, fill: black)
        for view in views {
            let input = try tensor(count)
            view.withUnsafeBufferPointer { backend.upload($0, to: input) }
            let logits = try backend.floats(try model.forward(input, StepContext(training: false)))
            for row in 0..<count {
                let z = logits[(row * classes)..<((row + 1) * classes)].map(Double.init)
                let top = z.max()!
                let e = z.map { exp($0 - top) }, total = e.reduce(0, +)
                for c in 0..<classes { sums[row * classes + c] += e[c] / total }
            }
        }
        return sums.map { $0 / Double(views.count) }
    }

    private func tensor(_ count: Int) throws -> Tensor {
        if let t = inputs[count] { return t }
        let t = try backend.makeTensor([count, 1, FaceDataset.side, FaceDataset.side])
        inputs[count] = t
        return t
    }
}
