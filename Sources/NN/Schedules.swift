import Foundation

/// How the learning rate moves over a run.
public enum ScheduleKind: String, CaseIterable, Codable, Sendable {
    /// Constant after warm-up.
    case constant
    /// Multiplied by `gamma` every `stepEpochs` epochs (torch's StepLR).
    case step
    /// Cosine from the base rate to zero over the run (torch's CosineAnnealingLR).
    case cosine
    /// Multiplied by `gamma` when validation macro-F1 has not improved for `patience` epochs
    /// (torch's ReduceLROnPlateau, mode max).
    case plateau
}

/// The learning rate for every step: linear warm-up from a tenth of the base rate over the
/// first `warmupSteps`, then the schedule by epoch.
public final class LearningRateSchedule {
    public let kind: ScheduleKind
    public let baseRate: Float
    public let warmupSteps: Int
    public let epochs: Int
    public let stepEpochs: Int
    public let gamma: Float
    public let patience: Int
    /// What the plateau schedule has learned so far; saved in checkpoints.
    public struct State: Codable, Equatable, Sendable {
        public var factor: Float = 1
        public var best = -Float.greatestFiniteMagnitude
        public var badEpochs = 0
        public init() {}
    }

    public var state = State()

    public init(
        kind: ScheduleKind, baseRate: Float, epochs: Int, warmupSteps: Int = 0,
        stepEpochs: Int = 10, gamma: Float = 0.1, patience: Int = 3
    ) {
        self.kind = kind
        self.baseRate = baseRate
        self.epochs = max(epochs, 1)
        self.warmupSteps = warmupSteps
        self.stepEpochs = max(stepEpochs, 1)
        self.gamma = gamma
        self.patience = patience
    }

    /// `step` counts from 0 over the whole run; `epoch` from 0.
    public func rate(step: Int, epoch: Int, stepsPerEpoch: Int) -> Float {
        if step < warmupSteps {
            return baseRate * Float(step + 1) / Float(warmupSteps)
        }
        switch kind {
        case .constant: return baseRate
        case .step: return baseRate * pow(gamma, Float(epoch / stepEpochs))
        case .plateau: return baseRate * state.factor
        case .cosine:
            let total = Float(max(epochs * stepsPerEpoch - warmupSteps, 1))
            let progress = Float(step - warmupSteps) / total
            return baseRate * 0.5 * (1 + cos(Float.pi * min(progress, 1)))
        }
    }

    /// Tells the plateau schedule an epoch's validation score; other schedules ignore it.
    public func observe(validationScore score: Float) {
        guard kind == .plateau else { return }
        if score > state.best + 1e-4 {
            state.best = score
            state.badEpochs = 0
        } else {
            state.badEpochs += 1
            if state.badEpochs > patience {
                state.factor *= gamma
                state.badEpochs = 0
            }
        }
    }
}
