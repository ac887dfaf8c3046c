import FacemineBackends
import FacemineData
import FacemineTraining
import Foundation
import Testing

/// The TensorBoard log read back with a reader of the record format written here from its
/// definition (length, masked CRC-32C of the length, data, masked CRC-32C of the data) and
/// swift-protobuf's decoder. CI also reads a run's log with TensorBoard itself
/// (scripts/check-tensorboard-log.py).
@Suite struct TensorBoardLogTests {
    /// CRC-32C's published check value: the checksum of "123456789" is 0xE3069283.
    @Test func crc32cMatchesItsCheckValue() {
        #expect(TFRecord.records(TFRecord.frame(Data("123456789".utf8))) == [Data("123456789".utf8)])
        #expect(TFRecord.crc32c(Data("123456789".utf8)) == 0xE306_9283)
    }

    @Test func aTrainingRunLogsEveryEpochAndStepLossesThatReadBack() throws {
        var c = TrainingConfiguration()
        c.epochs = 2
        c.batchSize = 8
        c.augmentation = .none
        let faces = SyntheticFaces(count: 240, seed: 3).generate(threads: 2)
        let split = Splits.holdOut(faces.records, fraction: 0.2, seed: 3)
        let trainer = try Trainer(
            configuration: c, backend: BackendChoice.cpu.makeBackend(threads: 2).backend, dataset: faces,
            trainIndices: split.train, validationIndices: split.validation)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let history = try trainer.run(checkpoints: dir) { _ in }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("events.out.tfevents.") }
        #expect(files.count == 1)
        let bytes = try Data(contentsOf: dir.appendingPathComponent(files[0]))
        let records = try #require(TFRecord.records(bytes), "every record's length and CRCs check out")
        let events = try records.map { try TensorBoardEvent(record: $0) }
        #expect(events.first?.fileVersion == "brain.Event:2")
        for record in history {
            let event = try #require(events.first { $0.step == Int64(record.epoch) && $0.values["epoch/val_macro_f1"] != nil })
            #expect(abs(Double(event.values["epoch/val_macro_f1"]!) - record.validation!.macroF1) < 1e-6)
            #expect(abs(Double(event.values["epoch/train_loss"]!) - record.trainLoss) < 1e-5 * max(1, record.trainLoss))
        }
        let stepLosses = events.filter { $0.values["step/train_loss"] != nil }
        #expect(stepLosses.count == 2 * trainer.stepsPerEpoch / Trainer.lossLogInterval)
        #expect(stepLosses.allSatisfy { $0.step % Int64(Trainer.lossLogInterval) == 0 })
        // A flipped bit anywhere is caught by the CRCs.
        var broken = bytes
        broken[broken.count / 2] ^= 0x10
        #expect(TFRecord.records(broken) == nil)
        #expect(TFRecord.records(bytes.dropLast(3)) == nil, "a torn last record is not taken for a whole one")
    }
}
