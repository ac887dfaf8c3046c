/// A grid of faces as one grayscale image: one row per class, `perRow` faces each,
/// separated by a 2-pixel white margin. Used by `facemine eda` and for looking at data.
public struct ContactSheet {
    public static let margin = 2

    public static func make(_ dataset: FaceDataset, rows: [[Int]], perRow: Int, zoom: Int = 2) -> GrayImage {
        let cell = FaceDataset.side * zoom + margin
        let width = perRow * cell + margin, height = rows.count * cell + margin
        var pixels = [UInt8](repeating: 255, count: width * height)
        for (r, indices) in rows.enumerated() {
            for (c, index) in indices.prefix(perRow).enumerated() {
                let face = dataset.image(index)
                let x0 = margin + c * cell, y0 = margin + r * cell
                for y in 0..<(FaceDataset.side * zoom) {
                    for x in 0..<(FaceDataset.side * zoom) {
                        pixels[(y0 + y) * width + x0 + x] = face[face.startIndex + (y / zoom) * FaceDataset.side + x / zoom]
                    }
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    /// The first `perRow` faces of each class (rows in label order; empty rows for absent classes).
    public static func byClass(_ dataset: FaceDataset, perRow: Int, zoom: Int = 2) -> GrayImage {
        var rows = [[Int]](repeating: [], count: Emotion.count)
        for (i, r) in dataset.records.enumerated() where rows[r.label.rawValue].count < perRow {
            rows[r.label.rawValue].append(i)
        }
        return make(dataset, rows: rows, perRow: perRow, zoom: zoom)
    }
}
