import FacemineRandom

/// Train / validation index sets.
public struct Fold: Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
}

/// How faces are divided for training and evaluation (DESIGN.md §4): stratified k-fold that
/// keeps every group (a CK+ subject, a synthetic identity) inside one fold, FER-2013's official
/// split, and a held-out test set.
public enum Splits {
    /// Stratified k-fold, deterministic by seed. Groups are placed first, largest first, each in
    /// the fold where it leaves the per-class counts most even; ungrouped faces are then dealt
    /// class by class to the fold with the fewest of that class, so ungrouped data ends up within
    /// one face of the ideal per class and fold.
    public static func kFold(_ records: [FaceRecord], folds k: Int = 5, seed: UInt64) -> [Fold] {
        precondition(k >= 2, "k-fold needs at least 2 folds")
        var counts = [[Int]](repeating: [Int](repeating: 0, count: Emotion.count), count: k)
        var foldOf = [Int](repeating: -1, count: records.count)
        var rng = SeededGenerator(seed: seed, Stream.folds.rawValue)

        var groups: [String: [Int]] = [:]
        var singletons = [[Int]](repeating: [], count: Emotion.count)
        for (i, r) in records.enumerated() {
            if let g = r.group { groups[g, default: []].append(i) } else { singletons[r.label.rawValue].append(i) }
        }
        var units = groups.keys.sorted().map { groups[$0]! }
        units.shuffle(using: &rng)
        units.sort { $0.count > $1.count }  // stable: equal sizes keep the shuffled order
        for unit in units {
            var unitCounts = [Int](repeating: 0, count: Emotion.count)
            for i in unit { unitCounts[records[i].label.rawValue] += 1 }
            let best = (0..<k).min { a, b in
                cost(counts[a], unitCounts) < cost(counts[b], unitCounts)
            }!
            for i in unit { foldOf[i] = best }
            for c in 0..<Emotion.count { counts[best][c] += unitCounts[c] }
        }
        for c in 0..<Emotion.count {
            var members = singletons[c]
            members.shuffle(using: &rng)
            for i in members {
                let f = (0..<k).min {
                    (counts[$0][c], counts[$0].reduce(0, +), $0) < (counts[$1][c], counts[$1].reduce(0, +), $1)
                }!
                foldOf[i] = f
                counts[f][c] += 1
            }
        }
        return (0..<k).map { f in
            Fold(train: records.indices.filter { foldOf[$0] != f }, validation: records.indices.filter { foldOf[$0] == f })
        }
    }

    /// How uneven the fold counts get if a unit with `unit` counts joins the fold with `fold`:
    /// the sum of squared per-class loads, then total size as tie-breaker.
    private static func cost(_ fold: [Int], _ unit: [Int]) -> (Int, Int) {
        var squares = 0
        for c in 0..<fold.count where unit[c] > 0 {
            let n = fold[c] + unit[c]
            squares += n * n - fold[c] * fold[c]
        }
        return (squares, fold.reduce(0, +))
    }

    public struct ThreeWay: Sendable, Equatable {
        public var train: [Int]
        public var validation: [Int]
        public var test: [Int]
    }

    /// FER-2013's official split: Training / PublicTest (validation) / PrivateTest (test).
    /// Faces without an original split (CK+48, synthetic) are divided 8:1:1 the k-fold way,
    /// groups kept whole, so they take part on every side.
    public static func official(_ records: [FaceRecord], seed: UInt64) -> ThreeWay {
        var result = ThreeWay(train: [], validation: [], test: [])
        var unsplit: [Int] = []
        for (i, r) in records.enumerated() {
            switch r.split {
            case .training: result.train.append(i)
            case .publicTest: result.validation.append(i)
            case .privateTest: result.test.append(i)
            case nil: unsplit.append(i)
            }
        }
        if unsplit.count >= 10 {
            let folds = kFold(unsplit.map { records[$0] }, folds: 10, seed: seed)
            result.validation += folds[0].validation.map { unsplit[$0] }
            result.test += folds[1].validation.map { unsplit[$0] }
            let held = Set(folds[0].validation + folds[1].validation)
            result.train += unsplit.indices.filter { !held.contains($0) }.map { unsplit[$0] }
        } else {
            result.train += unsplit
        }
        for keyPath in [\ThreeWay.train, \.validation, \.test] { result[keyPath: keyPath].sort() }
        return result
    }

    /// A stratified, grouped held-out set of about `fraction` of the faces, and the rest.
    ///
    /// A rare class gets at least min(`minimumPerClass`, a quarter of its faces) held out, whole
    /// groups moved over until it has (while the held-out share stays under twice `fraction`):
    /// the held-out faces choose `best.safetensors` by macro-F1, and a class seen through two or
    /// three faces (CK+'s contempt at 10%) makes that choice noise.
    public static func holdOut(_ records: [FaceRecord], fraction: Double, seed: UInt64, minimumPerClass: Int = 10) -> Fold {
        precondition(fraction > 0 && fraction <= 0.5, "held-out fraction must be in (0, 0.5]")
        let fold = kFold(records, folds: max(2, Int((1 / fraction).rounded())), seed: seed)[0]
        var held = Set(fold.validation)
        var total = [Int](repeating: 0, count: Emotion.count), seen = total
        for (i, r) in records.enumerated() {
            total[r.label.rawValue] += 1
            if held.contains(i) { seen[r.label.rawValue] += 1 }
        }
        // The faces still in training, as units that move together (a group, or one face).
        var units: [String: [Int]] = [:]
        for i in fold.train { units[records[i].group ?? "#\(i)", default: []].append(i) }
        var order = units.keys.sorted()
        var rng = SeededGenerator(seed: seed, Stream.folds.rawValue, 0x7E1D)
        // Topping up never takes more than twice the share asked for.
        let limit = Int(2 * fraction * Double(records.count))
        order.shuffle(using: &rng)
        for c in 0..<Emotion.count {
            let target = min(minimumPerClass, total[c] / 4)
            for key in order where seen[c] < target {
                guard let unit = units[key], unit.contains(where: { records[$0].label.rawValue == c }),
                    held.count + unit.count <= limit
                else { continue }
                units[key] = nil
                for i in unit {
                    held.insert(i)
                    seen[records[i].label.rawValue] += 1
                }
            }
        }
        return Fold(
            train: records.indices.filter { !held.contains($0) }, validation: records.indices.filter { held.contains($0) })
    }
}
