/// Test-time augmentation: a face is classified as the average of the softmax over several
/// views of it (`--tta`). The views are the ones training's augmentation produces, so the model
/// has seen their like: mirror images, and the shifted crops of `RandomCrop(48, padding:)`.
public enum TestTimeAugmentation: String, CaseIterable, Codable, Sendable {
    /// The face as it is.
    case none
    /// The face and its mirror image.
    case flip
    /// torchvision's TenCrop over the face padded by `shift` pixels: the four corner crops and
    /// the centre crop (the face shifted by `shift` pixels diagonally each way, and unshifted),
    /// each also mirrored.
    case tencrop

    /// How many views each face is classified in.
    public var viewCount: Int {
        switch self {
        case .none: 1
        case .flip: 2
        case .tencrop: 10
        }
    }

    /// The views of `count` normalised faces (NCHW, 48x48): one array per view, in the faces'
    /// order. The unchanged faces come last, so whatever a model keeps from its latest forward
    /// pass (MyCNN's fc1 activations) belongs to the faces as they are. Pixels shifted in from
    /// outside take `fill`, the value black has after normalisation (training pads with black).
    public func views(of images: [Float], count: Int, shift: Int, fill: Float) -> [[Float]] {
        let offsets: [(Int, Int)]
        switch self {
        case .none: return [images]
        case .flip: offsets = [(0, 0)]
        case .tencrop: offsets = [(-shift, -shift), (shift, -shift), (-shift, shift), (shift, shift), (0, 0)]
        }
        var views: [[Float]] = []
        for (dx, dy) in offsets {
            views.append(Self.shifted(images, count: count, dx: dx, dy: dy, mirrored: true, fill: fill))
            if dx != 0 || dy != 0 {
                views.append(Self.shifted(images, count: count, dx: dx, dy: dy, mirrored: false, fill: fill))
            }
        }
        views.append(images)
        return views
    }

    /// Each face moved by (dx, dy) pixels (positive: right, down), optionally mirrored first.
    static func shifted(_ images: [Float], count: Int, dx: Int, dy: Int, mirrored: Bool, fill: Float) -> [Float] {
        let side = FaceDataset.side, n = FaceDataset.pixelsPerImage
        var out = [Float](repeating: fill, count: images.count)
        for f in 0..<count {
            let base = f * n
            for y in 0..<side {
                let sy = y - dy
                guard sy >= 0 && sy < side else { continue }
                for x in 0..<side {
                    let sx = x - dx
                    guard sx >= 0 && sx < side else { continue }
                    out[base + y * side + x] = images[base + sy * side + (mirrored ? side - 1 - sx : sx)]
                }
            }
        }
        return out
    }
}
