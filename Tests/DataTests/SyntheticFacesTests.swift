import FacemineData
import FacemineRandom
import Foundation
import Testing

@Suite struct SyntheticFacesTests {
    @Test func reproducibleByteForByteFromTheSeed() {
        let a = SyntheticFaces(count: 300, seed: 7).generate(threads: 1)
        let b = SyntheticFaces(count: 300, seed: 7).generate(threads: 3)
        let c = SyntheticFaces(count: 300, seed: 8).generate(threads: 2)
        #expect(a.pixels == b.pixels, "the thread count must not change a single byte")
        #expect(a.records == b.records)
        #expect(a.pixels != c.pixels)
        if let path = ProcessInfo.processInfo.environment["FACEMINE_SAVE_SHEET"] {
            let sheet = ContactSheet.byClass(SyntheticFaces(count: 2000, seed: 1).generate(), perRow: 12)
            try? Data(GrayImage.encodePNG(sheet.pixels, width: sheet.width, height: sheet.height)).write(
                to: URL(fileURLWithPath: path))
        }
    }

    @Test func classProportionsFollowTheDefaultWeights() {
        let data = SyntheticFaces(count: 4000, seed: 3).generate()
        let weights = SyntheticFaces.defaultClassWeights, total = weights.reduce(0, +)
        for (label, count) in data.classCounts.enumerated() {
            #expect(abs(Double(count) - weights[label] / total * 4000) <= 1, "class \(label): \(count)")
        }
        #expect(data.classCounts.allSatisfy { $0 > 0 }, "every class, rare ones included, is present")
        #expect(Set(data.records.compactMap(\.group)).count > 50, "many identities")
    }

    /// A linear softmax classifier on standardised 24x24 thumbnails, trained on three quarters of
    /// the identities and scored on the rest: well above chance (0.125; it scores 0.28), far below
    /// perfect. Pose and lighting vary, so a linear model on pixels is weak; a CNN does better.
    @Test func learnableButNotTrivial() {
        let data = SyntheticFaces(count: 1600, seed: 11, classWeights: [Double](repeating: 1, count: 8)).generate()
        let n = 576
        let features = (0..<data.count).map { i -> [Double] in
            let face = Array(data.image(i))
            let x = (0..<n).map { j -> Double in
                let y = (j / 24) * 2, x = (j % 24) * 2
                return Double(
                    Int(face[y * 48 + x]) + Int(face[y * 48 + x + 1]) + Int(face[y * 48 + 48 + x]) + Int(face[y * 48 + 49 + x]))
                    / 4
            }
            let mean = x.reduce(0, +) / Double(x.count)
            let std = max((x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)).squareRoot(), 1)
            return x.map { ($0 - mean) / std }
        }
        let heldOut = data.records.map { Int($0.group!.split(separator: ":")[1])! % 4 == 0 }
        var weights = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: 8)
        var rng = SeededGenerator(seed: 5)
        var order = (0..<data.count).filter { !heldOut[$0] }
        func scores(_ x: [Double]) -> [Double] {
            weights.map { w in zip(w, x).reduce(w[n]) { $0 + $1.0 * $1.1 } }
        }
        for epoch in 0..<6 {
            order.shuffle(using: &rng)
            let rate = 0.01 / Double(epoch + 1)
            for i in order {
                let s = scores(features[i]), top = s.max()!
                let e = s.map { exp($0 - top) }, total = e.reduce(0, +)
                for c in 0..<8 {
                    let g = e[c] / total - (c == data.records[i].label.rawValue ? 1 : 0)
                    for j in 0..<n { weights[c][j] -= rate * g * features[i][j] }
                    weights[c][n] -= rate * g
                }
            }
        }
        let tested = (0..<data.count).filter { heldOut[$0] }
        let correct = tested.filter { i in
            let s = scores(features[i])
            return s.firstIndex(of: s.max()!)! == data.records[i].label.rawValue
        }.count
        let accuracy = Double(correct) / Double(tested.count)
        print("synthetic faces, linear classifier on held-out identities: accuracy \(accuracy)")
        #expect(tested.count > 250)
        #expect(accuracy > 0.22, "linear classifier: \(accuracy), chance is 0.125")
        #expect(accuracy < 0.95, "linear classifier: \(accuracy): too easy to teach anything")
    }
}
