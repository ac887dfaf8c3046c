import FacemineDevice
import FacemineNN

/// An exponential moving average of a model's weights and batch-norm statistics (`--ema
/// DECAY`), as timm's ModelEmaV2 keeps it: after every optimizer step each average moves
/// towards the current value, avg = d avg + (1 - d) value. The average of the last few
/// thousand steps generalises better than the weights of the last step; validation,
/// `best.safetensors` and so `evaluate` and `predict` use it.
///
/// The decay is warmed up as d = min(decay, (1 + t) / (10 + t)) over optimizer steps t, so the
/// average forgets the random initial weights within the first epoch.
public final class WeightAverage {
    public let decay: Float
    let backend: any Backend
    /// The model's tensors (parameters, then buffers) by state-dict name, and their averages.
    let tensors: [(name: String, value: Tensor)]
    let averages: [Tensor]
    /// The model's own values while the averages stand in for them.
    private var parked: [Tensor]?

    public init(model: any Classifier, decay: Float, backend: any Backend) throws {
        self.decay = decay
        self.backend = backend
        tensors = model.parameters.map { ($0.name, $0.value) } + model.buffers.map { ($0.name, $0.value) }
        averages = try tensors.map { try backend.makeTensor($0.value.shape) }
        restart()
    }

    /// Sets the averages to the model's current values (at the start, and after loading initial weights).
    public func restart() {
        for (average, t) in zip(averages, tensors) { backend.copy(t.value, to: average) }
    }

    /// Puts the averages into the model's tensors for good: training goes on from them.
    public func adopt() {
        for (average, t) in zip(averages, tensors) { backend.copy(average, to: t.value) }
    }

    /// Moves the averages after optimizer step `step` (counting from 1).
    public func update(step: Int) {
        let d = min(decay, Float(1 + step) / Float(10 + step))
        for (average, t) in zip(averages, tensors) { backend.axpby(alpha: 1 - d, t.value, beta: d, average) }
    }

    /// Runs `body` with the averages in the model's tensors, then puts the model's own back.
    public func withAveragedWeights<T>(_ body: () throws -> T) throws -> T {
        let parked = try self.parked ?? tensors.map { try backend.makeTensor($0.value.shape) }
        self.parked = parked
        for (p, t) in zip(parked, tensors) { backend.copy(t.value, to: p) }
        for (average, t) in zip(averages, tensors) { backend.copy(average, to: t.value) }
        defer { for (p, t) in zip(parked, tensors) { backend.copy(p, to: t.value) } }
        return try body()
    }

    /// Checkpoint names of the averages: `ema.<state-dict name>`.
    public var named: [(name: String, value: Tensor)] {
        zip(tensors, averages).map { ("ema.\($0.name)", $1) }
    }
}
