import FacemineData
import Foundation

/// Training configurations as files (`facemine train --config FILE`, the `best-config.json` of
/// `facemine tune`): JSON with any subset of `TrainingConfiguration`'s fields. A file is
/// untrusted input, so every value is checked here with a message naming the file and field,
/// instead of surfacing later as a crash inside training.
extension TrainingConfiguration {
    public static func load(contentsOf path: String) throws -> TrainingConfiguration {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DataError(path, "cannot be read (\(systemReason(error)))")
        }
        return try load(data, name: path)
    }

    public static func load(_ data: Data, name: String) throws -> TrainingConfiguration {
        guard data.count <= 1 << 20 else {
            throw DataError(name, "is \(data.count) bytes; a configuration file is a few hundred")
        }
        let c: TrainingConfiguration
        do {
            // Keys first: an unknown one is an error, and option names are accepted.
            guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
                throw DataError(
                    name, "is not valid JSON holding an object of training settings (e.g. {\"lr\": 0.01, \"epochs\": 30})")
            }
            let normalized = try JSONSerialization.data(withJSONObject: try ConfigurationKeys.normalized(fields, name: name))
            c = try JSONDecoder().decode(TrainingConfiguration.self, from: normalized)
        } catch let error as DataError {
            throw error
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw DataError(name, "is not valid JSON (\(context.debugDescription))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.dataCorrupted(context), let DecodingError.keyNotFound(_, context)
        {
            throw DataError(
                name, "field \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch {
            throw DataError(name, "is not a training configuration (\(error))")
        }
        if let problem = c.problem { throw DataError(name, problem) }
        return c
    }

    /// What is wrong with these values for training, if anything (one line).
    public var problem: String? {
        func finite(_ v: Float) -> Bool { v.isFinite }
        if batchSize < 2 || batchSize > 1 << 16 { return "batchSize \(batchSize) must be in 2...65536" }
        if epochs < 1 || epochs > 100_000 { return "epochs \(epochs) must be in 1...100000" }
        if !(finite(learningRate) && learningRate > 0) { return "learningRate \(learningRate) must be positive" }
        if !(finite(weightDecay) && weightDecay >= 0) { return "weightDecay \(weightDecay) must be 0 or positive" }
        if !(dropout >= 0 && dropout < 1) { return "dropout \(dropout) must be in [0, 1)" }
        if !(finite(momentum) && momentum >= 0 && momentum < 1) { return "momentum \(momentum) must be in [0, 1)" }
        if nesterov && (optimizer != .sgd || momentum <= 0) { return "nesterov needs optimizer sgd and a positive momentum" }
        if !(warmupEpochs >= 0 && warmupEpochs <= 1000) { return "warmupEpochs \(warmupEpochs) must be in 0...1000" }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) { return "labelSmoothing \(labelSmoothing) must be in [0, 1)" }
        if !(validationFraction > 0 && validationFraction <= 0.5) {
            return "validationFraction \(validationFraction) must be in (0, 0.5]"
        }
        if !(finite(clipGradientNorm) && clipGradientNorm >= 0) {
            return "clipGradientNorm \(clipGradientNorm) must be 0 (off) or positive"
        }
        if !(samplerAlpha >= 0 && samplerAlpha <= 2) { return "samplerAlpha \(samplerAlpha) must be in 0...2" }
        if !(cellFloor >= 0 && cellFloor <= cellCap && cellCap <= 1000) {
            return "cellFloor \(cellFloor) and cellCap \(cellCap) must satisfy 0 <= floor <= cap <= 1000"
        }
        if weightedSampler && cellBalancedSampler { return "weightedSampler and cellBalancedSampler exclude each other" }
        if classWeightedLoss && effectiveNumberLoss { return "classWeightedLoss and effectiveNumberLoss exclude each other" }
        if !(logitAdjustment >= 0 && logitAdjustment <= 5) { return "logitAdjustment \(logitAdjustment) must be in 0...5" }
        if !(posthocAdjustment >= 0 && posthocAdjustment <= 5) {
            return "posthocAdjustment \(posthocAdjustment) must be in 0...5"
        }
        if !(focalGamma >= 0 && focalGamma <= 10) { return "focalGamma \(focalGamma) must be in 0...10" }
        if focalGamma > 0 && labelSmoothing > 0 { return "focal loss and label smoothing exclude each other" }
        if !(mixupAlpha >= 0 && mixupAlpha <= 10) { return "mixupAlpha \(mixupAlpha) must be in 0...10" }
        if !(cutmixAlpha >= 0 && cutmixAlpha <= 10) { return "cutmixAlpha \(cutmixAlpha) must be in 0...10" }
        if !(emaDecay >= 0 && emaDecay < 1) { return "emaDecay \(emaDecay) must be in [0, 1)" }
        if !(0...16).contains(ttaShift) { return "ttaShift \(ttaShift) must be in 0...16" }
        if earlyStoppingPatience < 0 { return "earlyStoppingPatience \(earlyStoppingPatience) must be 0 (off) or positive" }
        if !(0...1000).contains(rebalanceEpochs) { return "rebalanceEpochs \(rebalanceEpochs) must be in 0...1000" }
        if rebalanceEpochs > 0 && earlyStoppingPatience > 0 {
            return "earlyStoppingPatience and rebalanceEpochs exclude each other (stopping early would skip the re-balancing epochs)"
        }
        if keep == .last && earlyStoppingPatience > 0 {
            return "earlyStoppingPatience needs keep best (stopping early waits for a better epoch; keep last keeps the last)"
        }
        let a = augmentation
        if !(0...16).contains(a.cropPadding) { return "augmentation.cropPadding \(a.cropPadding) must be in 0...16" }
        for (field, value, limit) in [
            ("rotationDegrees", a.rotationDegrees, 180.0), ("scale", a.scale, 0.9), ("aspect", a.aspect, 1.0),
            ("shift", a.shift, 0.5),
            ("brightness", a.brightness, 1.0), ("contrast", a.contrast, 1.0), ("erasing", a.erasing, 1.0),
        ]
        where !(value >= 0 && value <= limit) {
            return "augmentation.\(field) \(value) must be in 0...\(limit)"
        }
        return nil
    }
}
