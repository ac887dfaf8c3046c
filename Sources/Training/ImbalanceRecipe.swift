import FacemineData

/// Named combinations of the imbalance tools, for `--recipe` and the comparison study
/// (`facemine tune --space recipe=...`). Each sets only the tools it names.
public enum ImbalanceRecipe: String, CaseIterable, Sendable {
    /// Nothing: shuffle, unweighted loss.
    case plain
    /// The seed project's recipe: a 1/class-count weighted sampler (the trap on two sources).
    case sampler
    /// Tempered sampling, weights count^-0.5.
    case tempered
    /// Sampling balanced over (source, class) cells.
    case cells
    /// Class-balanced loss weights by effective number of samples.
    case cbLoss = "cb-loss"
    /// Train-time logit adjustment, tau = 1.
    case logitAdjust = "logit-adjust"
    /// Post-hoc logit adjustment, tau = 1.
    case posthoc
    /// Focal loss, gamma = 2.
    case focal
    /// Lab faces made to look like in-the-wild ones.
    case sourceAug = "source-aug"
    case cellsSourceAug = "cells+source-aug"
    case logitAdjustSourceAug = "logit-adjust+source-aug"
    case temperedLogitAdjustSourceAug = "tempered+logit-adjust+source-aug"

    /// What `facemine train` uses on data from more than one source: sampling balanced over
    /// (source, class) cells won the comparison in docs/RESULTS.md by a wide margin (MyCNN on the
    /// two-source benchmark: macro-F1 0.81 against the class-balanced sampler's 0.62, worst class
    /// recall 0.69 against 0.26), and adding source augmentation to it made it worse.
    public static let multiSourceDefault = ImbalanceRecipe.cells

    public func apply(to c: inout TrainingConfiguration) {
        let parts = Set(rawValue.split(separator: "+").map(String.init))
        if parts.contains("sampler") { c.weightedSampler = true; c.samplerAlpha = 1 }
        if parts.contains("tempered") { c.weightedSampler = true; c.samplerAlpha = 0.5 }
        if parts.contains("cells") { c.cellBalancedSampler = true }
        if parts.contains("cb-loss") { c.effectiveNumberLoss = true }
        if parts.contains("logit-adjust") { c.logitAdjustment = 1 }
        if parts.contains("posthoc") { c.posthocAdjustment = 1 }
        if parts.contains("focal") { c.focalGamma = 2 }
        if parts.contains("source-aug") { c.augmentation.labToWild = true }
    }
}
