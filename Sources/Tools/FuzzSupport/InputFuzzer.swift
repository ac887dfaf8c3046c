import FacemineData
import FacemineRandom
import FacemineTraining
import Foundation

/// Feeds the readers (CSV rows, PNG, JPEG, safetensors checkpoints, configuration files) with valid files mutated at
/// random: bytes flipped, inserted, deleted, truncated, sizes rewritten. Every case must end in a
/// clear error or a valid result: a crash, a hang or a runaway allocation fails the run itself.
/// Used by the test suite (a bounded number of cases) and by `facemine-fuzz` (for as long as
/// asked).
public struct InputFuzzer {
    public enum Target: String, CaseIterable, Sendable {
        case csv, png, jpeg, safetensors, config
    }

    public struct Tally: Sendable {
        public var cases = 0
        public var refused = 0
        public var accepted = 0
        public init() {}
    }

    var rng: SeededGenerator
    let seeds: [Target: [UInt8]]

    public init(seed: UInt64) throws {
        rng = SeededGenerator(seed: seed)
        let face = (0..<FaceDataset.pixelsPerImage).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var csv = "emotion,pixels,Usage\n"
        for label in 0..<3 { csv += "\(label)," + face.map(String.init).joined(separator: " ") + ",Training\n" }
        var checkpoint = SafeTensors(metadata: ["format": "facemine-checkpoint-1", "configuration": "{}", "state": "{}"])
        checkpoint.tensors["conv1.weight"] = .init(floats: (0..<288).map { Float($0) / 288 }, shape: [32, 1, 3, 3])
        checkpoint.tensors["bn1.num_batches_tracked"] = .init(int64: 3)
        var configuration = TrainingConfiguration()
        configuration.model = .resnet18
        configuration.augmentation = Augmentation(.standard)
        configuration.earlyStoppingPatience = 3
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        seeds = [
            .config: Array(try encoder.encode(configuration)),
            .csv: Array(csv.utf8),
            .png: try GrayImage.encodePNG(face, width: 48, height: 48),
            .jpeg: try GrayImage.encodeJPEG(face, width: 48, height: 48),
            .safetensors: try checkpoint.encoded(),
        ]
    }

    /// One mutated input for `target`.
    public mutating func mutate(_ target: Target) -> [UInt8] {
        var bytes = seeds[target]!
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            guard !bytes.isEmpty else { break }
            let at = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 6 {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            case 1: bytes[at] ^= 1 << UInt8(rng.next() % 8)
            case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            case 3: bytes.remove(at: at)
            case 4: bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            default:
                // Overwrite four bytes with an extreme value: lengths, sizes, offsets.
                for k in 0..<min(4, bytes.count - at) { bytes[at + k] = rng.next() % 2 == 0 ? 0xFF : 0x7F }
            }
        }
        return bytes
    }

    /// Runs one case through its reader; returns whether the input was accepted.
    public static func run(_ target: Target, _ bytes: [UInt8]) -> Bool {
        do {
            switch target {
            case .csv:
                let (faces, _) = try bytes.withUnsafeBufferPointer {
                    try CSVReader.parse($0, name: "fuzz.csv", source: .ckplus, policy: .skip, threads: 2)
                }
                precondition(faces.pixels.count == faces.count * FaceDataset.pixelsPerImage)
            case .png, .jpeg:
                let image = try GrayImage(decoding: bytes)
                precondition(image.pixels.count == image.width * image.height && image.face().count == FaceDataset.pixelsPerImage)
            case .safetensors:
                let file = try SafeTensors(bytes: bytes, name: "fuzz.safetensors")
                for entry in file.tensors.values { precondition(entry.floats.count == entry.count) }
            case .config:
                let c = try TrainingConfiguration.load(Data(bytes), name: "fuzz.json")
                precondition(c.problem == nil && c.batchSize >= 2 && c.epochs >= 1)
            }
            return true
        } catch {
            return false
        }
    }

    public mutating func run(_ target: Target, cases: Int, tally: inout Tally) {
        for _ in 0..<cases {
            let accepted = InputFuzzer.run(target, mutate(target))
            tally.cases += 1
            if accepted { tally.accepted += 1 } else { tally.refused += 1 }
        }
    }
}
