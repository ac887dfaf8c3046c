import FacemineData

/// Counts of (true class, predicted class) pairs, and the scores derived from them, defined as
/// scikit-learn defines them: per-class precision, recall and F1; macro-F1 as the plain mean
/// over the classes that occur (as truth or prediction); weighted-F1 weighted by support.
public struct ConfusionMatrix: Codable, Equatable, Sendable {
    /// counts[truth][prediction]
    public private(set) var counts: [[Int]]

    public init(classes: Int = Emotion.count) {
        counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    }

    public var classes: Int { counts.count }
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    public mutating func add(truth: Int, prediction: Int) { counts[truth][prediction] += 1 }

    /// Adds another matrix's counts (folds of a cross-validation into one matrix).
    public mutating func merge(_ other: ConfusionMatrix) {
        precondition(other.classes == classes, "confusion matrices of \(classes) and \(other.classes) classes")
        for t in 0..<classes { for p in 0..<classes { counts[t][p] += other.counts[t][p] } }
    }

    public var accuracy: Double {
        total == 0 ? 0 : Double((0..<classes).reduce(0) { $0 + counts[$1][$1] }) / Double(total)
    }

    public func support(_ c: Int) -> Int { counts[c].reduce(0, +) }
    func predicted(_ c: Int) -> Int { counts.reduce(0) { $0 + $1[c] } }

    public func precision(_ c: Int) -> Double { predicted(c) == 0 ? 0 : Double(counts[c][c]) / Double(predicted(c)) }
    public func recall(_ c: Int) -> Double { support(c) == 0 ? 0 : Double(counts[c][c]) / Double(support(c)) }
    public func f1(_ c: Int) -> Double {
        let p = precision(c), r = recall(c)
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
    }

    /// Classes that occur in the truth or the predictions.
    public var occurringClasses: [Int] { (0..<classes).filter { support($0) > 0 || predicted($0) > 0 } }

    public var macroF1: Double {
        let present = occurringClasses
        return present.isEmpty ? 0 : present.reduce(0) { $0 + f1($1) } / Double(present.count)
    }

    public var weightedF1: Double {
        total == 0 ? 0 : (0..<classes).reduce(0) { $0 + f1($1) * Double(support($1)) } / Double(total)
    }

    /// The lowest recall among classes present in the truth: what a rare class suffers.
    public var worstRecall: Double {
        (0..<classes).filter { support($0) > 0 }.map(recall).min() ?? 0
    }
}

/// Scores of one evaluation, as written to metrics.json.
public struct EvaluationReport: Codable, Equatable, Sendable {
    public struct ClassScores: Codable, Equatable, Sendable {
        public var name: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }

    public var loss: Double
    public var accuracy: Double
    public var macroF1: Double
    public var weightedF1: Double
    public var worstRecall: Double
    public var perClass: [ClassScores]
    public var confusion: ConfusionMatrix
    /// The same scores for each data source alone (FER-2013 and CK+, or the two synthetic
    /// sources), when the faces come from more than one: a model that leans on the look of a
    /// source shows it here, as high scores on one source and poor ones on the other, or as one
    /// source's faces all confused into the class only the other source has.
    public var perSource: [SourceScores]?

    public struct SourceScores: Codable, Equatable, Sendable {
        public var source: String
        public var faces: Int
        public var accuracy: Double
        public var macroF1: Double
        public var worstRecall: Double
        public var confusion: ConfusionMatrix
        public init(source: String, confusion: ConfusionMatrix) {
            self.source = source
            self.confusion = confusion
            faces = confusion.total
            accuracy = confusion.accuracy
            macroF1 = confusion.macroF1
            worstRecall = confusion.worstRecall
        }
    }

    public init(loss: Double, confusion: ConfusionMatrix, perSource: [SourceScores]? = nil) {
        self.perSource = perSource
        self.loss = loss
        self.confusion = confusion
        accuracy = confusion.accuracy
        macroF1 = confusion.macroF1
        weightedF1 = confusion.weightedF1
        worstRecall = confusion.worstRecall
        perClass = (0..<confusion.classes).map { c in
            ClassScores(
                name: Emotion(rawValue: c)?.name ?? "class \(c)", precision: confusion.precision(c),
                recall: confusion.recall(c), f1: confusion.f1(c), support: confusion.support(c))
        }
    }
}
