import FacemineRandom

/// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019): each training face is blended with a
/// partner face of the same batch, and the loss with it, so the model is trained towards
/// `weight` x its own label + (1 - weight) x the partner's. Both regularise small-data training;
/// the published FER-2013 recipes use them in long runs.
///
/// Deterministic by (seed, step): a resumed run mixes exactly as an uninterrupted one.
public struct BatchMixing: Equatable, Sendable {
    /// Beta(alpha, alpha) for mixup's blend weight; 0 is off.
    public var mixupAlpha: Double
    /// Beta(alpha, alpha) for the area CutMix keeps; 0 is off.
    public var cutmixAlpha: Double

    public init(mixupAlpha: Double = 0, cutmixAlpha: Double = 0) {
        self.mixupAlpha = mixupAlpha
        self.cutmixAlpha = cutmixAlpha
    }

    public var isActive: Bool { mixupAlpha > 0 || cutmixAlpha > 0 }

    /// How a batch was mixed: face i now holds `weight` of itself and 1 - `weight` of face
    /// `partners[i]`.
    public struct Mix: Equatable, Sendable {
        public var partners: [Int]
        public var weight: Double
        /// True for CutMix (a pasted rectangle), false for mixup (a blend of every pixel).
        public var cut: Bool
    }

    /// Mixes `count` faces of `images` (NCHW, 48x48, normalised) in place for training step
    /// `step`. With both alphas set, each step is mixup or CutMix with probability 1/2 (as timm
    /// switches). Returns nil when mixing is off or the batch has a single face.
    public func mix(_ images: inout [Float], count: Int, seed: UInt64, step: Int) -> Mix? {
        guard isActive, count > 1 else { return nil }
        let n = FaceDataset.pixelsPerImage, side = FaceDataset.side
        precondition(images.count == count * n, "\(images.count) floats for \(count) faces")
        var rng = SeededGenerator(seed: seed, Stream.mixing.rawValue, UInt64(step))
        let cut = cutmixAlpha > 0 && (mixupAlpha == 0 || rng.unit() < 0.5)
        var partners = Array(0..<count)
        partners.shuffle(using: &rng)
        let original = images
        if !cut {
            let w = Float(rng.symmetricBeta(mixupAlpha))
            for i in 0..<count {
                let a = i * n, b = partners[i] * n
                for k in 0..<n { images[a + k] = w * original[a + k] + (1 - w) * original[b + k] }
            }
            return Mix(partners: partners, weight: Double(w), cut: false)
        }
        // One rectangle for the whole batch, of area about (1 - lambda) of the face, centred
        // anywhere and clipped to the face; the weight is the share of pixels each face kept.
        let lambda = rng.symmetricBeta(cutmixAlpha)
        let ratio = (1 - lambda).squareRoot()
        let h = Int(Double(side) * ratio), w = Int(Double(side) * ratio)
        let cy = Int(rng.next() % UInt64(side)), cx = Int(rng.next() % UInt64(side))
        let top = max(cy - h / 2, 0), bottom = min(cy + h / 2, side)
        let left = max(cx - w / 2, 0), right = min(cx + w / 2, side)
        for i in 0..<count {
            let a = i * n, b = partners[i] * n
            for y in top..<bottom { for x in left..<right { images[a + y * side + x] = original[b + y * side + x] } }
        }
        let pasted = max(bottom - top, 0) * max(right - left, 0)
        return Mix(partners: partners, weight: 1 - Double(pasted) / Double(n), cut: true)
    }
}
