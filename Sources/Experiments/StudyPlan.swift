import FacemineData
import FacemineTraining
import Foundation

/// What a cross-validation or a search will run: one or more training configurations
/// ("trials": the models of `facemine cv`, the candidate settings of `facemine tune`), each on
/// every fold. Written to `runs/<name>/study.json` before anything trains, so any machine that
/// shares the run folder can run any unit of it, and a rerun of the same command knows what is
/// done.
public struct StudyPlan: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case crossValidation = "cv", tuning = "tune" }

    public var kind: Kind
    public var trials: [Trial]
    /// Number of folds; 1 with `holdOut` means one fixed validation split (a fast search).
    public var folds: Int
    public var holdOut: Bool
    /// The data every unit must see: a description and the face count, so units run on other
    /// data are refused instead of mixed in.
    public var data: String
    public var faces: Int
    /// Seed of the fold assignment (and of each trial's training).
    public var seed: UInt64

    public struct Trial: Codable, Equatable, Sendable {
        public var label: String
        public var configuration: TrainingConfiguration
        public init(label: String, configuration: TrainingConfiguration) {
            self.label = label
            self.configuration = configuration
        }
    }

    public init(kind: Kind, trials: [Trial], folds: Int, holdOut: Bool, data: String, faces: Int, seed: UInt64) {
        self.kind = kind
        self.trials = trials
        self.folds = folds
        self.holdOut = holdOut
        self.data = data
        self.faces = faces
        self.seed = seed
    }

    /// Every unit of work, trial-major: trial 0 fold 0, trial 0 fold 1, ...
    public var units: [Unit] {
        trials.indices.flatMap { t in (0..<folds).map { Unit(trial: t, fold: $0) } }
    }

    public struct Unit: Hashable, Codable, Sendable, CustomStringConvertible {
        public var trial: Int
        public var fold: Int
        public init(trial: Int, fold: Int) {
            self.trial = trial
            self.fold = fold
        }
        public var fileName: String { "trial-\(trial)-fold-\(fold).json" }
        public var description: String { "trial \(trial) fold \(fold)" }
    }
}

/// A study's folder: `study.json`, then one `units/trial-T-fold-K.json` per finished unit, each
/// written atomically the moment it finishes. Nothing else is shared between processes, so
/// units can run anywhere that sees the folder (a Slurm array, GNU parallel, Kubernetes jobs).
public struct StudyFolder: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    public var planURL: URL { url.appendingPathComponent("study.json") }
    public var unitsURL: URL { url.appendingPathComponent("units") }
    func unitURL(_ unit: StudyPlan.Unit) -> URL { unitsURL.appendingPathComponent(unit.fileName) }
    /// The best weights of a finished unit (its `best.safetensors`), for `evaluate`, `predict`
    /// or `--init-weights`: a fold's model, or a model pretrained on one dataset for another.
    public func checkpointURL(_ unit: StudyPlan.Unit) -> URL {
        unitsURL.appendingPathComponent("trial-\(unit.trial)-fold-\(unit.fold).safetensors")
    }
    /// Scratch checkpoints of a unit while it trains (deleted when it finishes).
    func scratchURL(_ unit: StudyPlan.Unit) -> URL {
        unitsURL.appendingPathComponent("trial-\(unit.trial)-fold-\(unit.fold)-checkpoints")
    }

    public func readPlan() throws -> StudyPlan? {
        guard FileManager.default.fileExists(atPath: planURL.path) else { return nil }
        do {
            return try JSONDecoder().decode(StudyPlan.self, from: Data(contentsOf: planURL))
        } catch {
            throw DataError(planURL.path, "is not a readable study plan (\(error))")
        }
    }

    /// Creates the folder with `plan`, or checks that the plan already there is the same one:
    /// rerunning a command continues its study; a different command must use another name.
    /// A plan that only appends trials (a search given more candidates) extends the study: the
    /// finished units keep their meaning, since trial indices do not move.
    public func prepare(_ plan: StudyPlan) throws {
        if let existing = try readPlan() {
            var prefix = plan
            prefix.trials = Array(plan.trials.prefix(existing.trials.count))
            if prefix == existing && plan.trials.count > existing.trials.count {
                try RunFiles.writeJSON(plan, to: planURL)
                return
            }
            guard existing == plan else {
                let differences = StudyPlan.differences(existing, plan)
                let shown =
                    differences.prefix(3).joined(separator: "; ")
                    + (differences.count > 3 ? "; and \(differences.count - 3) more" : "")
                throw DataError(
                    url.path,
                    "holds a different study (\(shown)); "
                        + "continue it with the command that made it, or pick another --name")
            }
            return
        }
        try RunFiles.writeJSON(plan, to: planURL)
    }

    public func result(_ unit: StudyPlan.Unit) throws -> UnitResult? {
        let file = unitURL(unit)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do {
            return try JSONDecoder().decode(UnitResult.self, from: Data(contentsOf: file))
        } catch {
            throw DataError(file.path, "is not a readable unit result (\(error)); delete it to run the unit again")
        }
    }

    public func results(_ plan: StudyPlan) throws -> [UnitResult] {
        try plan.units.compactMap { try result($0) }
    }
}

extension StudyPlan {
    /// Where two plans differ, as "field: A there, B here" with JSON paths
    /// (`trials[0].configuration.learningRate`), so a refused rerun says what changed.
    static func differences(_ stored: StudyPlan, _ asked: StudyPlan) -> [String] {
        func object(_ plan: StudyPlan) -> Any? {
            (try? JSONEncoder().encode(plan)).flatMap { try? JSONSerialization.jsonObject(with: $0) }
        }
        func text(_ v: Any?) -> String {
            guard let v else { return "absent" }
            if let s = v as? String { return "\"\(s.prefix(40))\"" }
            if let data = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed, .sortedKeys]) {
                return String(decoding: data, as: UTF8.self).prefix(40).description
            }
            return "\(v)".prefix(40).description
        }
        var found: [String] = []
        func walk(_ a: Any?, _ b: Any?, _ path: String) {
            if let x = a as? [String: Any], let y = b as? [String: Any] {
                for key in Set(x.keys).union(y.keys).sorted() { walk(x[key], y[key], path.isEmpty ? key : "\(path).\(key)") }
            } else if let x = a as? [Any], let y = b as? [Any], x.count == y.count {
                for i in x.indices { walk(x[i], y[i], "\(path)[\(i)]") }
            } else if text(a) != text(b) {
                found.append("\(path): \(text(a)) there, \(text(b)) here")
            }
        }
        walk(object(stored), object(asked), "")
        return found
    }
}
