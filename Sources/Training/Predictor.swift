import FacemineData
import FacemineDevice
import FacemineNN
import Foundation

/// What a trained model predicts for faces, the one way `evaluate`, training's validation and
/// `predict` all use: the softmax averaged over the test-time views (`--tta`), then the
/// post-hoc logit adjustment (`--posthoc-adjustment`), renormalised. The same faces give the
/// same probabilities in all three.
public final class Predictor {
    let model: any Classifier
    let backend: any Backend
    public let tta: TestTimeAugmentation
    let shift: Int
    /// exp(-tau x log prior) per class, or nil: post-hoc adjustment as a reweighting of the
    /// probabilities, which is softmax(logits - tau x log prior) for a single view.
    let classFactors: [Double]?
    private var inputs: [Int: Tensor] = [:]

    public init(model: any Classifier, backend: any Backend, tta: TestTimeAugmentation, shift: Int,
                posthocAdjustment: Float = 0, logPriors: [Float] = []) {
        self.model = model
        self.backend = backend
        self.tta = tta
        self.shift = shift
        precondition(posthocAdjustment == 0 || logPriors.count == Emotion.count, "post-hoc adjustment needs the class priors")
        classFactors = posthocAdjustment > 0 ? logPriors.map { exp(-Double(posthocAdjustment) * Double($0)) } : nil
    }

    /// The predictor a checkpoint's configuration and state describe; `tta` overrides the
    /// configuration's. Post-hoc adjustment uses the class priors of the run's training faces.
    public convenience init(model: any Classifier, backend: any Backend, configuration c: TrainingConfiguration,
                            state: TrainingState, tta: TestTimeAugmentation? = nil) {
        self.init(model: model, backend: backend, tta: tta ?? c.tta, shift: c.ttaShift,
                  posthocAdjustment: c.posthocAdjustment, logPriors: state.classLogPriors ?? [])
    }

    /// Class probabilities [count x 8] of `count` normalised faces (NCHW 48x48), row by row.
    public func probabilities(_ images: [Float], count: Int) throws -> [Double] {
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
        for row in 0..<count {
            var p = (0..<classes).map { sums[row * classes + $0] / Double(views.count) }
            if let classFactors { p = zip(p, classFactors).map { $0 * $1 } }
            let total = p.reduce(0, +)
            for c in 0..<classes { sums[row * classes + c] = p[c] / total }
        }
        return sums
    }

    private func tensor(_ count: Int) throws -> Tensor {
        if let t = inputs[count] { return t }
        let t = try backend.makeTensor([count, 1, FaceDataset.side, FaceDataset.side])
        inputs[count] = t
        return t
    }
}
