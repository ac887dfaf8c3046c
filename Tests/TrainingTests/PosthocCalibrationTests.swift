import FacemineData
import FacemineTraining
import Foundation
import Testing

/// Choosing the post-hoc adjustment's tau on validation faces: it must move a rare class's
/// faces over when that is cheap, and refuse when it costs more than a point of accuracy.
@Suite struct PosthocCalibrationTests {
    /// 90 faces of class 0 (anger), 10 of class 7 (contempt); the other classes absent, with
    /// tiny priors so that no tau makes the model predict them.
    static let logPriors: [Float] = [0.9, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 0.1].map { Float(log($0)) }

    /// Probability rows for faces that give `rare` to contempt and the rest to anger.
    static func rows(_ rare: [Double]) -> [Double] {
        rare.flatMap { r in [1 - r - 6e-6, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6, r] }
    }

    /// The post-hoc adjustment with these priors: what the faces are scored by here.
    static func adjusted(_ p: [Double], tau: Float) -> [Double] { Predictor.adjusted(p, tau: tau, logPriors: logPriors) }

    static func scores(_ p: [Double], _ labels: [Int], tau: Float) -> (accuracy: Double, macroF1: Double) {
        let adjusted = Predictor.adjusted(p, tau: tau, logPriors: logPriors)
        var m = ConfusionMatrix()
        for (k, truth) in labels.enumerated() {
            let row = adjusted[(k * 8)..<((k + 1) * 8)]
            m.add(truth: truth, prediction: row.indices.max { row[$0] < row[$1] }! - k * 8)
        }
        return (m.accuracy, m.macroF1)
    }

    /// Contempt faces the model gives 0.3 (never predicted), anger faces 0.05 (well apart):
    /// some tau moves every contempt face over and no anger face.
    @Test func aCheapAdjustmentIsTaken() {
        let labels = [Int](repeating: 0, count: 90) + [Int](repeating: 7, count: 10)
        let p = Self.rows([Double](repeating: 0.05, count: 90) + [Double](repeating: 0.3, count: 10))
        let tau = PosthocCalibration.choose(probabilities: p, labels: labels, scoring: Self.adjusted)
        let before = Self.scores(p, labels, tau: 0), after = Self.scores(p, labels, tau: tau)
        #expect(before.accuracy == 0.9 && tau > 0, "tau \(tau)")
        #expect(after.accuracy == 1 && after.macroF1 == 1, "\(after)")
    }

    /// 20 anger faces look exactly like the contempt faces: moving those over raises macro-F1
    /// (0.47 -> 0.69) but costs 10 points of accuracy, over the one point allowed, so tau stays 0.
    @Test func anAdjustmentThatCostsMoreThanAPointIsRefused() {
        let labels = [Int](repeating: 0, count: 90) + [Int](repeating: 7, count: 10)
        let p = Self.rows([Double](repeating: 0.05, count: 70) + [Double](repeating: 0.3, count: 30))
        let moved = Self.scores(p, labels, tau: 1)
        #expect(moved.macroF1 > Self.scores(p, labels, tau: 0).macroF1 && moved.accuracy < 0.85, "the trap is set: \(moved)")
        #expect(PosthocCalibration.choose(probabilities: p, labels: labels, scoring: Self.adjusted) == 0)
    }

    /// Adjusting with tau reweights by exp(-tau x log prior) and renormalises: for one view it is
    /// softmax(logits - tau x log prior).
    @Test func adjustingIsSoftmaxOfShiftedLogits() {
        let logits: [Double] = [2, -1, 0.5, 0, 1, -2, 0.3, -0.7]
        func softmax(_ z: [Double]) -> [Double] { let e = z.map { exp($0 - z.max()!) }; return e.map { $0 / e.reduce(0, +) } }
        let tau: Float = 0.7
        let got = Predictor.adjusted(softmax(logits), tau: tau, logPriors: Self.logPriors)
        let want = softmax(zip(logits, Self.logPriors).map { $0 - Double(tau) * Double($1) })
        for c in 0..<8 { #expect(abs(got[c] - want[c]) < 1e-12, "class \(c)") }
    }
}
