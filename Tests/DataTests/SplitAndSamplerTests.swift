import FacemineData
import Testing

@Suite struct SplitTests {
    /// An unbalanced, ungrouped label list like FER-2013's, plus one with CK+-style subject groups.
    static func records(_ counts: [Int], groupSize: Int? = nil) -> [FaceRecord] {
        var records: [FaceRecord] = []
        for (label, n) in counts.enumerated() {
            for i in 0..<n {
                let group = groupSize.map { "S\(label)-\(i / $0)" }
                records.append(
                    FaceRecord(label: Emotion(rawValue: label)!, source: .ckplus, group: group, origin: "\(label)/\(i)"))
            }
        }
        return records
    }

    @Test(arguments: [2, 5, 7])
    func foldsAreDisjointCoverEverythingAndAreStratified(_ k: Int) {
        let counts = [101, 13, 97, 180, 121, 80, 136, 4]
        let records = Self.records(counts)
        let folds = Splits.kFold(records, folds: k, seed: 42)
        #expect(folds.count == k)
        let all = folds.flatMap(\.validation)
        #expect(all.count == records.count && Set(all).count == records.count, "validation sets partition the data")
        for fold in folds {
            #expect(Set(fold.train).isDisjoint(with: fold.validation))
            #expect(fold.train.count + fold.validation.count == records.count)
            for (label, n) in counts.enumerated() {
                let inFold = fold.validation.filter { records[$0].label.rawValue == label }.count
                #expect(
                    abs(Double(inFold) - Double(n) / Double(k)) < 1, "class \(label): \(inFold) vs ideal \(Double(n) / Double(k))"
                )
            }
        }
        #expect(Splits.kFold(records, folds: k, seed: 42) == folds, "deterministic by seed")
        #expect(Splits.kFold(records, folds: k, seed: 43) != folds)
    }

    @Test func groupsNeverStraddleFolds() {
        // Sequences of 3 frames per subject, as CK+48's last three frames; plus ungrouped faces.
        let records =
            Self.records([60, 30, 45, 90, 33, 60, 0, 18], groupSize: 3) + Self.records([200, 10, 150, 300, 170, 120, 210, 0])
        let folds = Splits.kFold(records, folds: 5, seed: 1)
        var foldOfGroup: [String: Int] = [:]
        for (f, fold) in folds.enumerated() {
            for i in fold.validation {
                guard let g = records[i].group else { continue }
                #expect(foldOfGroup[g, default: f] == f, "group \(g) is split across folds")
                foldOfGroup[g] = f
            }
        }
        #expect(Set(folds.flatMap(\.validation)).count == records.count)
        // Grouped data cannot be split within one face, but stays within one group of ideal.
        for fold in folds {
            for label in 0..<8 {
                let total = records.filter { $0.label.rawValue == label }.count
                let inFold = fold.validation.filter { records[$0].label.rawValue == label }.count
                #expect(abs(Double(inFold) - Double(total) / 5) <= 3, "class \(label): \(inFold) vs \(Double(total) / 5)")
            }
        }
    }

    @Test func officialSplitFollowsUsageAndSplitsTheRestByGroup() {
        var records = Self.records([10, 10, 10, 10, 10, 10, 10, 0])
        for i in records.indices {
            records[i].split = [.training, .training, .publicTest, .privateTest][i % 4]; records[i].group = nil
        }
        let ck = Self.records([30, 0, 0, 0, 0, 0, 0, 30], groupSize: 3)
        let split = Splits.official(records + ck, seed: 3)
        let n = records.count
        #expect(split.train.filter { $0 < n }.allSatisfy { records[$0].split == .training })
        #expect(split.validation.filter { $0 < n }.allSatisfy { records[$0].split == .publicTest })
        #expect(split.test.filter { $0 < n }.allSatisfy { records[$0].split == .privateTest })
        #expect(Set(split.train + split.validation + split.test).count == n + ck.count)
        let ckTest = split.test.filter { $0 >= n }, ckValidation = split.validation.filter { $0 >= n }
        #expect(ckTest.count == 6 && ckValidation.count == 6, "one tenth each, in whole groups of 3")
    }

    @Test func holdOutIsAboutTheFractionAsked() {
        let records = Self.records([100, 100, 100, 100, 100, 100, 100, 100])
        let split = Splits.holdOut(records, fraction: 0.2, seed: 9)
        #expect(split.validation.count == 160)
        #expect(Set(split.train).isDisjoint(with: split.validation))
    }

    /// CK+-like: contempt is 36 faces in groups of 3. A tenth held out would be 3 or so; the
    /// hold-out tops it up to 9 (a quarter of 36, below the floor of 10) in whole groups, and
    /// leaves plentiful classes at their tenth.
    @Test func holdOutTopsUpARareClassInWholeGroups() {
        var records = Self.records([300, 0, 0, 0, 0, 0, 0, 0])
        for i in records.indices { records[i].group = nil }
        records += Self.records([0, 0, 0, 0, 0, 0, 0, 36], groupSize: 3)
        let split = Splits.holdOut(records, fraction: 0.1, seed: 5)
        let contempt = split.validation.filter { records[$0].label == .contempt }
        #expect(contempt.count >= 9 && contempt.count <= 11, "\(contempt.count) contempt faces held out")
        #expect(split.validation.filter { records[$0].label == .anger }.count == 30)
        let heldGroups = Set(contempt.compactMap { records[$0].group })
        #expect(split.train.allSatisfy { records[$0].group.map { !heldGroups.contains($0) } ?? true }, "groups kept whole")
        #expect(Set(split.train + split.validation).count == records.count)
        #expect(Splits.holdOut(records, fraction: 0.1, seed: 5) == split, "deterministic")
    }
}

@Suite struct SamplerTests {
    @Test func sequentialAndShuffledVisitEveryFaceOnce() {
        #expect(SequentialSampler(count: 5).indices(epoch: 3) == [0, 1, 2, 3, 4])
        let s = ShuffledSampler(count: 1000, seed: 1)
        #expect(s.indices(epoch: 0).sorted() == Array(0..<1000))
        #expect(s.indices(epoch: 0) != s.indices(epoch: 1), "each epoch has its own order")
        #expect(s.indices(epoch: 1) == ShuffledSampler(count: 1000, seed: 1).indices(epoch: 1), "deterministic")
    }

    /// FER-like imbalance (disgust 1.6%, contempt 0.5%): balanced draws make every class about 1/8
    /// of each epoch. With n = 36,000 draws a class's share has standard deviation
    /// sqrt(p(1-p)/n) = 0.0017; the tolerance 0.01 is six of those.
    @Test func weightedSamplerDrawsClassesUniformly() {
        let counts = [4998, 606, 5146, 9058, 6105, 4085, 6791, 185]
        let labels = counts.enumerated().flatMap { [Emotion](repeating: Emotion(rawValue: $0.offset)!, count: $0.element) }
        let sampler = WeightedRandomSampler(balancing: labels, seed: 2)
        let draws = sampler.indices(epoch: 0)
        #expect(draws.count == labels.count, "num_samples defaults to the dataset size")
        var drawn = [Int](repeating: 0, count: 8)
        for i in draws { drawn[labels[i].rawValue] += 1 }
        for (c, n) in drawn.enumerated() {
            #expect(abs(Double(n) / Double(draws.count) - 0.125) < 0.01, "class \(c) drawn \(n) times")
        }
        #expect(Set(draws).count < labels.count, "with replacement: repeats, and rare faces drawn many times")
        #expect(sampler.indices(epoch: 1) != draws)
    }

    @Test func weightedSamplerFollowsArbitraryWeights() {
        let sampler = WeightedRandomSampler(weights: [0, 1, 3, 0], samplesPerEpoch: 40_000, seed: 5)
        let draws = sampler.indices(epoch: 0)
        #expect(!draws.contains(0) && !draws.contains(3), "zero weight is never drawn")
        let share = Double(draws.filter { $0 == 2 }.count) / 40_000
        #expect(abs(share - 0.75) < 0.015, "index 2 drawn \(share)")
    }

    @Test func lossWeightsBalanceTheClasses() {
        let labels: [Emotion] = [.anger, .anger, .anger, .disgust]
        let w = ClassBalance.inverseFrequencyLossWeights(labels)
        #expect(abs(w[0] - 4.0 / 6) < 1e-6 && abs(w[1] - 2) < 1e-6)
        #expect(w[2...].allSatisfy { $0 == 0 })
        // Weighted, each class contributes equally: 3 x 2/3 == 1 x 2.
        #expect(abs(3 * w[0] - w[1]) < 1e-6)
    }
}
