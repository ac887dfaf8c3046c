import FacemineBackends
import FacemineData
import FacemineTraining
import Foundation
import Testing

/// Scoring each face over its own source's classes: FER-2013 faces are never called contempt
/// and CK+48 faces never neutral, whatever the model's probabilities say.
@Suite struct SourceClassesTests {
    static let records: [FaceRecord] =
        [Emotion.anger, .neutral, .happiness].map { FaceRecord(label: $0, source: .fer2013, origin: "f") }
        + [Emotion.contempt, .anger].map { FaceRecord(label: $0, source: .ckplus, origin: "c") }

    @Test func eachSourceKeepsTheClassesOfItsTrainingFaces() {
        let sets = SourceClasses(Self.records)
        #expect(sets.classes == ["FER-2013": [0, 3, 6], "CK+": [0, 7]])
        #expect(sets.omissions(among: [.ckplus]) == "CK+ without disgust, fear, happiness, sadness, surprise, neutral")
        #expect(SourceClasses(classes: ["CK+": Array(0..<8)]).omissions(among: [.ckplus]) == nil)
    }

    /// A CK+ face whose highest probability is neutral goes to its best CK+ class; a FER-2013
    /// face loses its contempt share; a face of a source the training faces did not hold, and
    /// one with nothing left on its source's classes, keep their rows.
    @Test func restrictingZeroesTheOtherClassesAndRenormalises() {
        let sets = SourceClasses(classes: ["CK+": [0, 1, 2, 3, 4, 5, 7], "FER-2013": Array(0..<7)])
        let ck: [Double] = [0.1, 0, 0, 0, 0, 0, 0.6, 0.3]
        let fer: [Double] = [0.2, 0, 0, 0.3, 0, 0, 0, 0.5]
        let other: [Double] = [0, 0, 0, 0, 0, 0, 0.9, 0.1]
        let empty: [Double] = [0, 0, 0, 0, 0, 0, 1, 0]
        let out = sets.restrict(ck + fer + other + empty, sources: [.ckplus, .fer2013, .synthetic, .ckplus])
        let want: [Double] = [0.25, 0, 0, 0, 0, 0, 0, 0.75] + [0.4, 0, 0, 0.6, 0, 0, 0, 0] + other + empty
        for (i, (got, expected)) in zip(out, want).enumerated() { #expect(abs(got - expected) < 1e-12, "cell \(i): \(got)") }
    }

    /// A trained model on the two-source synthetic faces (the wild source has no contempt),
    /// pushed hard towards the rare classes by post-hoc adjustment: read over all eight classes
    /// it calls wild faces contempt; scored over their source's classes it never does, and the
    /// sets come back from a checkpoint.
    @Test func validationNeverGivesAFaceAClassItsSourceLacks() throws {
        let faces = MultiSourceTrainingTests.faces, split = MultiSourceTrainingTests.split
        let c = MultiSourceTrainingTests.configuration { $0.posthocAdjustment = 2 }
        let backend = try BackendChoice.cpu.makeBackend(threads: 2).backend
        let trainer = try Trainer(
            configuration: c, backend: backend, dataset: faces, trainIndices: split.train, validationIndices: split.validation)
        _ = try trainer.run { _ in }
        let sets = try #require(trainer.state.sourceClasses)
        #expect(sets.classes["synthetic-wild"] == Array(0..<7) && sets.classes["synthetic-lab"] == Array(0..<8))
        func wildContempt(_ r: EvaluationReport) throws -> Int {
            let wild = try #require(r.perSource?.first { $0.source == "synthetic-wild" })
            return (0..<8).reduce(0) { $0 + wild.confusion.counts[$1][Emotion.contempt.rawValue] }
        }
        let scored = try trainer.evaluate(split.validation).0
        trainer.predictor.sourceClasses = nil
        let unrestricted = try trainer.evaluate(split.validation).0
        #expect(try wildContempt(unrestricted) > 0, "the trap is set: the adjusted model calls some wild faces contempt")
        #expect(try wildContempt(scored) == 0)
        #expect(scored.confusion.total == unrestricted.confusion.total)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("source-classes-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(
            model: trainer.model, optimizer: nil, configuration: c, state: trainer.state, backend: backend, to: url)
        let (_, saved) = try Checkpoint.describe(try SafeTensors(contentsOf: url), location: url.path)
        #expect(saved.sourceClasses == sets)
    }
}
