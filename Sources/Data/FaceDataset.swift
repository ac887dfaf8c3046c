/// One face's description; its pixels live in `FaceDataset.pixels`.
public struct FaceRecord: Sendable, Equatable {
    public var label: Emotion
    public var source: DataSource
    public var split: OriginalSplit?
    /// Faces sharing a group (a CK+ subject, a synthetic identity) are near-duplicates and must
    /// stay on the same side of every train/validation split.
    public var group: String?
    /// The CK+ sequence (`S005_001`), when known.
    public var sequence: String?
    /// File and, for CSV rows, line: shown in messages and reports.
    public var origin: String

    public init(
        label: Emotion, source: DataSource, split: OriginalSplit? = nil, group: String? = nil,
        sequence: String? = nil, origin: String
    ) {
        self.label = label
        self.source = source
        self.split = split
        self.group = group
        self.sequence = sequence
        self.origin = origin
    }
}

/// 48x48 grayscale faces with their labels and provenance, in one contiguous pixel buffer
/// (row-major, one byte per pixel, image after image) so batches copy straight out of it.
public struct FaceDataset: Sendable {
    public static let side = 48
    public static let pixelsPerImage = side * side

    public private(set) var pixels: [UInt8]
    public private(set) var records: [FaceRecord]

    public init() {
        pixels = []
        records = []
    }

    public init(pixels: [UInt8], records: [FaceRecord]) {
        precondition(
            pixels.count == records.count * FaceDataset.pixelsPerImage,
            "\(pixels.count) pixels for \(records.count) faces")
        self.pixels = pixels
        self.records = records
    }

    public var count: Int { records.count }
    public var isEmpty: Bool { records.isEmpty }
    public var labels: [Emotion] { records.map(\.label) }

    /// The pixels of face `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        pixels[(index * FaceDataset.pixelsPerImage)..<((index + 1) * FaceDataset.pixelsPerImage)]
    }

    public mutating func append(image: some Collection<UInt8>, record: FaceRecord) {
        precondition(image.count == FaceDataset.pixelsPerImage, "a face has \(FaceDataset.pixelsPerImage) pixels")
        pixels.append(contentsOf: image)
        records.append(record)
    }

    public mutating func append(contentsOf other: FaceDataset) {
        pixels.append(contentsOf: other.pixels)
        records.append(contentsOf: other.records)
    }

    /// The faces at `indices`, in that order.
    public func subset(_ indices: some Collection<Int>) -> FaceDataset {
        var result = FaceDataset()
        result.pixels.reserveCapacity(indices.count * FaceDataset.pixelsPerImage)
        result.records.reserveCapacity(indices.count)
        for i in indices { result.append(image: image(i), record: records[i]) }
        return result
    }

    /// Faces per class, indexed by `Emotion.rawValue`.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: Emotion.count)
        for r in records { counts[r.label.rawValue] += 1 }
        return counts
    }

    public func classCounts(source: DataSource) -> [Int] {
        var counts = [Int](repeating: 0, count: Emotion.count)
        for r in records where r.source == source { counts[r.label.rawValue] += 1 }
        return counts
    }

    public var sources: [DataSource] {
        DataSource.allCases.filter { s in records.contains { $0.source == s } }
    }
}
