import FacemineData
import Foundation

/// The keys a configuration file may use: every field of `TrainingConfiguration` (as
/// metrics.json and best-config.json write them) and every training option's command-line
/// name (`lr`, `batch-size`, `val-split`, ...). An unknown key is an error with the closest
/// known key, never dropped in silence.
public enum ConfigurationKeys {
    /// Command-line names that differ from the field they set.
    static let optionNames: [String: String] = [
        "batch-size": "batchSize", "batch_size": "batchSize", "lr": "learningRate", "weight-decay": "weightDecay",
        "warmup-epochs": "warmupEpochs", "use-weighted-sampler": "weightedSampler", "use_weighted_sampler": "weightedSampler",
        "sampler-alpha": "samplerAlpha", "cell-balanced-sampler": "cellBalancedSampler", "cell-floor": "cellFloor",
        "cell-cap": "cellCap", "class-weighted-loss": "classWeightedLoss", "effective-number-loss": "effectiveNumberLoss",
        "logit-adjustment": "logitAdjustment", "posthoc-adjustment": "posthocAdjustment", "focal-gamma": "focalGamma",
        "label-smoothing": "labelSmoothing", "mixup": "mixupAlpha", "cutmix": "cutmixAlpha", "ema": "emaDecay",
        "tta-shift": "ttaShift", "init-weights": "initWeights", "val-split": "validationFraction",
        "official-split": "officialSplit", "on-nan": "onNonFinite", "clip-grad-norm": "clipGradientNorm",
        "patience": "earlyStoppingPatience", "rebalance-epochs": "rebalanceEpochs",
    ]
    /// Command-line names of augmentation settings, with the field of `augmentation` they set.
    static let augmentationOptions: [String: String] = [
        "scale-jitter": "scale", "aspect-jitter": "aspect", "erasing": "erasing", "source-augmentation": "labToWild",
    ]
    static let fields = [
        "model", "stem", "batchSize", "epochs", "learningRate", "weightDecay", "dropout", "optimizer", "momentum",
        "nesterov", "schedule", "warmupEpochs", "seed", "weightedSampler", "samplerAlpha", "cellBalancedSampler",
        "cellFloor", "cellCap", "classWeightedLoss", "effectiveNumberLoss", "logitAdjustment", "posthocAdjustment",
        "calibratePosthoc", "focalGamma", "labelSmoothing", "augmentation", "mixupAlpha", "cutmixAlpha", "emaDecay",
        "tta", "ttaShift",
        "initWeights", "validationFraction", "officialSplit", "onNonFinite", "clipGradientNorm",
        "earlyStoppingPatience", "keep", "rebalanceEpochs",
    ]
    static let augmentationFields = [
        "flip", "cropPadding", "rotationDegrees", "scale", "aspect", "shift", "brightness",
        "contrast", "erasing", "labToWild",
    ]

    /// The file's object with every key spelled as a field: option names translated,
    /// `"augmentation": "standard"` expanded to that strength's settings. Throws a one-line
    /// DataError for an unknown key.
    static func normalized(_ object: [String: Any], name: String) throws -> [String: Any] {
        var out: [String: Any] = [:]
        var augmentationOverrides: [String: Any] = [:]
        for (key, value) in object {
            if let field = augmentationOptions[key] {
                augmentationOverrides[field] = value
            } else if key == "augmentation", let strength = value as? String {
                guard let s = Augmentation.Strength(rawValue: strength) else {
                    throw DataError(
                        name,
                        "field augmentation: '\(strength.prefix(40))' is not one of "
                            + Augmentation.Strength.allCases.map(\.rawValue).joined(separator: ", "))
                }
                let data = try JSONEncoder().encode(Augmentation(s))
                out["augmentation"] = try JSONSerialization.jsonObject(with: data)
            } else if key == "augmentation", let nested = value as? [String: Any] {
                for k in nested.keys where !augmentationFields.contains(k) {
                    throw DataError(name, "unknown field augmentation.\(k.prefix(40))" + suggestion(k, among: augmentationFields))
                }
                out["augmentation"] = nested
            } else if fields.contains(key) {
                out[key] = value
            } else if let field = optionNames[key] {
                out[field] = value
            } else {
                throw DataError(
                    name,
                    "unknown field \(key.prefix(40))"
                        + suggestion(key, among: fields + Array(optionNames.keys) + Array(augmentationOptions.keys)))
            }
        }
        if !augmentationOverrides.isEmpty {
            var nested = out["augmentation"] as? [String: Any] ?? [:]
            for (k, v) in augmentationOverrides { nested[k] = v }
            out["augmentation"] = nested
        }
        return out
    }

    /// "; did you mean X?" for the closest key within a third of its length in edits, else "".
    static func suggestion(_ key: String, among candidates: [String]) -> String {
        let scored = candidates.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(3, key.count / 3) else {
            return
                " (known fields: the training options' names, e.g. lr, batch-size, epochs, or metrics.json's configuration fields)"
        }
        return "; did you mean \(best.0)?"
    }

    /// Levenshtein distance: insertions, deletions and substitutions.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
