import FacemineDevice

/// Which optimizer, with torch.optim's defaults and names.
public enum OptimizerKind: String, CaseIterable, Codable, Sendable {
    case sgd, adam, adamw
}

/// Updates parameters from their gradients; state (momentum, moments) lives on the parameters,
/// created on the first step, so checkpoints can save it with them.
public final class Optimizer {
    public let kind: OptimizerKind
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    let backend: any Backend
    /// Steps taken, counting from 1 after the first; sets Adam's bias correction.
    public var stepCount = 0

    public init(
        _ backend: any Backend, kind: OptimizerKind, momentum: Float = 0.9, nesterov: Bool = false,
        weightDecay: Float = 0
    ) {
        self.backend = backend
        self.kind = kind
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// `gradientScale` multiplies every gradient first (gradient-norm clipping).
    public func step(_ parameters: [Parameter], learningRate: Float, gradientScale: Float = 1) throws {
        stepCount += 1
        for p in parameters {
            let decay = p.decays ? weightDecay : 0
            let learningRate = learningRate * p.learningRateScale
            switch kind {
            case .sgd:
                if p.state.isEmpty && momentum != 0 { p.state = [try backend.makeTensor(p.value.shape)] }
                var settings = SGDSettings(learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: decay)
                settings.gradientScale = gradientScale
                backend.sgdStep(
                    parameter: p.value, gradient: p.gradient, momentumBuffer: p.state.first,
                    settings: settings, step: stepCount)
            case .adam, .adamw:
                if p.state.isEmpty { p.state = [try backend.makeTensor(p.value.shape), try backend.makeTensor(p.value.shape)] }
                var settings = AdamSettings(learningRate: learningRate, weightDecay: decay, decoupledWeightDecay: kind == .adamw)
                settings.gradientScale = gradientScale
                backend.adamStep(
                    parameter: p.value, gradient: p.gradient, firstMoment: p.state[0], secondMoment: p.state[1],
                    settings: settings, step: stepCount)
            }
        }
    }
}
