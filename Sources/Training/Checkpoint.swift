import FacemineData
import FacemineDevice
import FacemineNN
import Foundation

/// Where a run stands at the end of an epoch: with the weights and optimizer state, exactly what
/// `--resume` needs to continue as if never stopped (sampling, augmentation and dropout are
/// keyed by seed, epoch and step, so nothing else carries state).
public struct TrainingState: Codable, Equatable, Sendable {
    public var epochsDone = 0
    public var step = 0
    public var optimizerSteps = 0
    public var schedule = LearningRateSchedule.State()
    public var history: [EpochRecord] = []
    public var bestMacroF1: Double?
    public var dataFaces = 0
    /// The data sources of the faces it was trained on (nil in older checkpoints).
    public var dataSources: [String]?
    /// Set when a run was stopped inside an epoch (Ctrl-C, SIGTERM): how far it got, so
    /// `--resume` skips those batches and the epoch's numbers come out as if never stopped.
    public var partialEpoch: PartialEpoch?
    /// Steps whose update was skipped for a NaN or infinite loss or gradient (`--on-nan skip`).
    public var skippedSteps = 0
    /// log of each class's share of the training faces: what post-hoc logit adjustment
    /// subtracts when the checkpoint predicts (nil in checkpoints older than this field).
    public var classLogPriors: [Float]?
    /// The classes each source's training faces hold: a face of a known source is scored over
    /// its source's classes (nil in checkpoints older than this field: all eight).
    public var sourceClasses: SourceClasses?
    /// Optimizer steps taken before the re-balancing epochs began (nil until then): the weight
    /// average restarts there, and its decay warms up again from that step.
    public var rebalanceStartStep: Int?
    /// The post-hoc adjustment's tau chosen on the validation faces for the weights saved with
    /// this state (`calibratePosthoc`): the last validated epoch's; nil when the configuration's
    /// tau applies.
    public var posthocAdjustment: Float? { history.last?.posthocAdjustment }

    public init() {}
}

public struct PartialEpoch: Codable, Equatable, Sendable {
    public var batchesDone: Int
    public var lossSum: Double
    /// Correct predictions so far; fractional with mixup or CutMix.
    public var correct: Double
    public var seen: Int
}

/// Checkpoints as safetensors files that Python's `safetensors` package reads: tensors named as
/// in the PyTorch state dict (`layer1.0.conv1.weight`, `bn1.running_var`,
/// `bn1.num_batches_tracked`), optimizer state as `optimizer.<parameter>.<slot>` with
/// torch.optim's slot names, and the configuration, training state and class names as metadata.
public enum Checkpoint {
    static let format = "facemine-checkpoint-1"

    /// `extra` holds further named tensors (the weight average's `ema.*`).
    public static func save(
        model: any Classifier, optimizer: Optimizer?, configuration: TrainingConfiguration,
        state: TrainingState, backend: any Backend, extra: [(name: String, value: Tensor)] = [],
        to url: URL
    ) throws {
        var file = SafeTensors()
        for p in model.parameters { file.tensors[p.name] = try entry(p.value, backend) }
        for (name, tensor) in extra { file.tensors[name] = try entry(tensor, backend) }
        for b in model.buffers { file.tensors[b.name] = try entry(b.value, backend) }
        for bn in model.batchNorms { file.tensors["\(bn.name).num_batches_tracked"] = .init(int64: Int64(bn.batchesTracked)) }
        if let optimizer {
            let slots = optimizer.kind == .sgd ? ["momentum_buffer"] : ["exp_avg", "exp_avg_sq"]
            for p in model.parameters {
                for (slot, tensor) in zip(slots, p.state) {
                    file.tensors["optimizer.\(p.name).\(slot)"] = try entry(tensor, backend)
                }
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        file.metadata = [
            "format": format,
            "model": model.name,
            "classes": Emotion.allCases.map(\.name).joined(separator: ","),
            "configuration": String(decoding: try encoder.encode(configuration), as: UTF8.self),
            "state": String(decoding: try encoder.encode(state), as: UTF8.self),
        ]
        try file.write(to: url)
    }

    /// Reads a facemine checkpoint's configuration and state.
    public static func describe(_ file: SafeTensors, location: String) throws -> (TrainingConfiguration, TrainingState) {
        guard file.metadata["format"] == format,
            let configuration = file.metadata["configuration"], let state = file.metadata["state"]
        else {
            throw DataError(location, "not a facemine checkpoint (no facemine configuration in its metadata)")
        }
        do {
            return (
                try JSONDecoder().decode(TrainingConfiguration.self, from: Data(configuration.utf8)),
                try JSONDecoder().decode(TrainingState.self, from: Data(state.utf8))
            )
        } catch {
            throw DataError(location, "its configuration or training state cannot be read (\(error))")
        }
    }

    /// The model and stem a facemine checkpoint was trained with, or nil for any other file
    /// (a torchvision state dict, say) or one that cannot be read.
    public static func architecture(at path: String) -> (Architecture, ResNetStem)? {
        guard let file = try? SafeTensors(contentsOf: URL(fileURLWithPath: path)),
            let configuration = try? describe(file, location: path).0
        else { return nil }
        return (configuration.model, configuration.stem)
    }

    /// Loads every parameter and buffer of `model`. A missing tensor or a shape that differs is
    /// refused with the tensor's name: a checkpoint of another model never half-loads.
    public static func loadWeights(_ file: SafeTensors, into model: any Classifier, backend: any Backend, location: String) throws
    {
        var updates: [(Tensor, [Float])] = []
        for (name, tensor) in model.parameters.map({ ($0.name, $0.value) }) + model.buffers.map({ ($0.name, $0.value) }) {
            guard let e = file.tensors[name] else {
                throw DataError(location, "has no tensor \(name) (a checkpoint of another model?)")
            }
            guard e.shape == tensor.shape else {
                throw DataError(location, "tensor \(name) has shape \(e.shape), the model needs \(tensor.shape)")
            }
            let values = e.floats
            guard values.allSatisfy(\.isFinite) else { throw DataError(location, "tensor \(name) holds NaN or infinity") }
            updates.append((tensor, values))
        }
        for (tensor, values) in updates { values.withUnsafeBufferPointer { backend.upload($0, to: tensor) } }
        for bn in model.batchNorms {
            if let e = file.tensors["\(bn.name).num_batches_tracked"], e.dtype == .i64, e.bytes.count == 8 {
                bn.batchesTracked = Int(e.bytes.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) })
            }
        }
    }

    /// Restores named tensors saved as `extra` (the weight average's), refusing a missing one.
    public static func loadExtra(
        _ file: SafeTensors, into tensors: [(name: String, value: Tensor)], backend: any Backend,
        location: String
    ) throws {
        for (name, tensor) in tensors {
            guard let e = file.tensors[name], e.shape == tensor.shape else {
                throw DataError(location, "has no tensor \(name) of shape \(tensor.shape) (was the run started without --ema?)")
            }
            e.floats.withUnsafeBufferPointer { backend.upload($0, to: tensor) }
        }
    }

    /// Restores the optimizer's state (momentum, Adam moments) and step count.
    public static func loadOptimizer(
        _ file: SafeTensors, into optimizer: Optimizer, model: any Classifier,
        steps: Int, backend: any Backend, location: String
    ) throws {
        let slots = optimizer.kind == .sgd ? ["momentum_buffer"] : ["exp_avg", "exp_avg_sq"]
        for p in model.parameters {
            p.state = try slots.compactMap { slot -> Tensor? in
                guard let e = file.tensors["optimizer.\(p.name).\(slot)"] else { return nil }
                guard e.shape == p.value.shape else {
                    throw DataError(location, "optimizer state of \(p.name) has shape \(e.shape)")
                }
                return try backend.makeTensor(e.shape, values: e.floats)
            }
        }
        optimizer.stepCount = steps
    }

    static func entry(_ tensor: Tensor, _ backend: any Backend) throws -> SafeTensors.Entry {
        .init(floats: try backend.floats(tensor), shape: tensor.shape)
    }
}

/// Starting weights from elsewhere: a torchvision-named state dict saved as safetensors
/// (ImageNet ResNet-18 weights, say, converted with `safetensors.torch.save_file`).
public enum PretrainedWeights {
    /// Loads every tensor whose name and shape match. An RGB first convolution [out, 3, k, k] is
    /// folded to one channel by summing over the colours (gray = R = G = B gives the same
    /// response); tensors whose shapes differ (a 1000-class head, the other stem) keep their
    /// initial values and are named in the returned notes. Refuses a file that matches nothing.
    public static func load(
        _ file: SafeTensors, into model: any Classifier, backend: any Backend,
        location: String
    ) throws -> [String] {
        var loaded = 0
        var kept: [String] = []
        var updates: [(Tensor, [Float])] = []
        for (name, tensor) in model.parameters.map({ ($0.name, $0.value) }) + model.buffers.map({ ($0.name, $0.value) }) {
            guard let e = file.tensors[name] else {
                kept.append(name)
                continue
            }
            var values = e.floats
            if e.shape != tensor.shape {
                let s = tensor.shape
                guard e.shape.count == 4, s.count == 4, e.shape[1] == 3, s[1] == 1,
                    e.shape[0] == s[0], e.shape[2] == s[2], e.shape[3] == s[3]
                else {
                    kept.append("\(name) (shape \(e.shape) there, \(s) here)")
                    continue
                }
                let plane = s[2] * s[3]
                values = (0..<(s[0] * plane)).map { i in
                    let o = i / plane, k = i % plane
                    return (0..<3).reduce(Float(0)) { $0 + values[(o * 3 + $1) * plane + k] }
                }
            }
            guard values.allSatisfy(\.isFinite) else { throw DataError(location, "tensor \(name) holds NaN or infinity") }
            updates.append((tensor, values))
            loaded += 1
        }
        guard loaded > 0 else {
            throw DataError(location, "no tensor matches \(model.name)'s names (expected torchvision names such as conv1.weight)")
        }
        for (tensor, values) in updates { values.withUnsafeBufferPointer { backend.upload($0, to: tensor) } }
        var notes = ["initialised \(loaded) tensors from \(location)"]
        if !kept.isEmpty {
            notes.append(
                "kept initial values for \(kept.count): " + kept.prefix(6).joined(separator: ", ")
                    + (kept.count > 6 ? ", ..." : ""))
        }
        return notes
    }
}
