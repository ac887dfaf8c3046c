import FacemineData

/// The classes each data source's training faces hold, and scoring within them.
///
/// FER-2013 has no contempt and CK+48 no neutral, so a model trained on both never sees a face
/// that tells a CK+ contempt face from a FER-2013 neutral one: every face of one class comes from
/// one source. Unrestricted, it calls unseen subjects' contempt neutral, a class CK+48 does not
/// have, and any push towards contempt (post-hoc adjustment, sampling) makes it call FER-2013
/// faces contempt, a class FER-2013 does not have. So wherever a face's source is known
/// (`evaluate`, training's validation, `cv`), it is scored over its own source's classes, as that
/// dataset's own benchmarks score it. `predict` on photos, whose source is unknown, keeps all
/// eight.
public struct SourceClasses: Codable, Equatable, Sendable {
    /// Class raw values by source name (`DataSource.rawValue`), ascending.
    public var classes: [String: [Int]]

    public init(classes: [String: [Int]]) { self.classes = classes }

    public init(_ records: some Sequence<FaceRecord>) {
        var sets: [String: Set<Int>] = [:]
        for r in records { sets[r.source.rawValue, default: []].insert(r.label.rawValue) }
        classes = sets.mapValues { $0.sorted() }
    }

    /// What scoring within the sources leaves out, for the sources in `present`: "CK+ without
    /// neutral, FER-2013 without contempt"; nil when every one of them has all eight classes.
    public func omissions(among present: [DataSource]) -> String? {
        let lines = present.map(\.rawValue).sorted().compactMap { name -> String? in
            guard let kept = classes[name], kept.count < Emotion.count else { return nil }
            let missing = Emotion.allCases.filter { !kept.contains($0.rawValue) }.map(\.description)
            return "\(name) without \(missing.joined(separator: ", "))"
        }
        return lines.isEmpty ? nil : lines.joined(separator: ", ")
    }

    /// `probabilities` [rows x 8] with each row's classes outside its source's set zeroed and
    /// the rest renormalised. Rows of a source the training faces did not hold, and rows with no
    /// probability left on their source's classes, stay as they are.
    public func restrict(_ probabilities: [Double], sources: [DataSource]) -> [Double] {
        let width = Emotion.count
        precondition(probabilities.count == sources.count * width, "\(sources.count) sources for \(probabilities.count) probabilities")
        let allowed = classes.mapValues { kept in (0..<width).map { kept.contains($0) } }
        var out = probabilities
        for (row, source) in sources.enumerated() {
            guard let keep = allowed[source.rawValue], keep.contains(false) else { continue }
            let cells = (row * width)..<((row + 1) * width)
            let total = zip(out[cells], keep).reduce(0.0) { $0 + ($1.1 ? $1.0 : 0) }
            guard total > 0 else { continue }
            for (c, i) in cells.enumerated() { out[i] = keep[c] ? out[i] / total : 0 }
        }
        return out
    }
}
