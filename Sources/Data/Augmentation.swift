import FacemineRandom
import Foundation

/// Training-time augmentation, applied per face and deterministic given (seed, epoch, face):
/// the same run always sees the same augmented images, on any number of threads.
/// Each transform is switched off by setting its amount to 0 (or `flip` to false).
public struct Augmentation: Codable, Equatable, Sendable {
    /// Mirror left-right with probability 1/2 (expressions are symmetric, contempt aside:
    /// a mirrored contempt face is still contempt, raised on the other side).
    public var flip = true
    /// Random crop after zero padding by this many pixels on each side (torchvision's
    /// `RandomCrop(48, padding:)`): a shift of up to this many pixels.
    public var cropPadding = 4
    /// Rotation drawn from [-degrees, +degrees].
    public var rotationDegrees = 10.0
    /// Scale drawn from [1 - scale, 1 + scale].
    public var scale = 0.1
    /// Aspect jitter, random-resized-crop style: the width is stretched by sqrt(r) and the
    /// height by 1/sqrt(r), r log-uniform in [1/(1 + aspect), 1 + aspect]. Off by default.
    public var aspect = 0.0
    /// Extra shift, as a fraction of the side, drawn from [-shift, +shift] on each axis.
    public var shift = 0.0
    /// Brightness multiplied by a factor from [1 - brightness, 1 + brightness].
    public var brightness = 0.2
    /// Contrast around the image mean scaled by a factor from [1 - contrast, 1 + contrast].
    public var contrast = 0.2
    /// Probability of erasing one random rectangle (2-33% of the face, aspect 0.3-3.3) to the
    /// mean gray, as torchvision's `RandomErasing`. Off by default.
    public var erasing = 0.0
    /// Source-aware: make lab-source faces (CK+, synthetic-lab) look like in-the-wild ones --
    /// lower contrast, blur, sensor noise -- so the look of the source cannot stand in for the
    /// class (the rare-class trap: contempt exists only in lab photos). Off by default.
    public var labToWild = false

    public init() {}

    /// Fields missing from a configuration file keep the values above.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        flip = try c.decodeIfPresent(Bool.self, forKey: .flip) ?? flip
        cropPadding = try c.decodeIfPresent(Int.self, forKey: .cropPadding) ?? cropPadding
        rotationDegrees = try c.decodeIfPresent(Double.self, forKey: .rotationDegrees) ?? rotationDegrees
        scale = try c.decodeIfPresent(Double.self, forKey: .scale) ?? scale
        aspect = try c.decodeIfPresent(Double.self, forKey: .aspect) ?? aspect
        shift = try c.decodeIfPresent(Double.self, forKey: .shift) ?? shift
        brightness = try c.decodeIfPresent(Double.self, forKey: .brightness) ?? brightness
        contrast = try c.decodeIfPresent(Double.self, forKey: .contrast) ?? contrast
        erasing = try c.decodeIfPresent(Double.self, forKey: .erasing) ?? erasing
        labToWild = try c.decodeIfPresent(Bool.self, forKey: .labToWild) ?? labToWild
    }

    /// Named strengths for the command line.
    public enum Strength: String, CaseIterable, Codable, Sendable {
        /// Nothing (as validation and evaluation always run).
        case none
        /// Mirror and shift by up to 2 pixels: label-preserving, cheap, and enough on the
        /// synthetic faces, which vary pose and light already. The default.
        case light
        /// Every geometric and photometric transform at the values above: for real photos.
        case standard
    }

    public init(_ strength: Strength) {
        switch strength {
        case .none: self = .none
        case .standard: self.init()
        case .light:
            self = .none
            flip = true
            cropPadding = 2
        }
    }

    /// No augmentation at all (validation, evaluation).
    public static let none: Augmentation = {
        var a = Augmentation()
        a.flip = false
        a.cropPadding = 0
        a.rotationDegrees = 0
        a.scale = 0
        a.brightness = 0
        a.contrast = 0
        return a
    }()

    var isGeometric: Bool { flip || cropPadding > 0 || rotationDegrees > 0 || scale > 0 || aspect > 0 || shift > 0 }

    /// Writes the augmented face of a face from `source` as floats in [0, 1].
    public func apply(
        _ face: ArraySlice<UInt8>, source: DataSource, seed: UInt64, epoch: Int, index: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        apply(face, seed: seed, epoch: epoch, index: index, into: out)
        if labToWild && source.isLab { Augmentation.wildLook(out, seed: seed, epoch: epoch, index: index) }
    }

    /// In-the-wild degradations for a lab photo: contrast down to 55-100% around the mean, a
    /// 3x3 blur half of the time, and sensor noise of 2-7% (each drawn per face and epoch).
    static func wildLook(_ out: UnsafeMutablePointer<Float>, seed: UInt64, epoch: Int, index: Int) {
        let side = FaceDataset.side, n = FaceDataset.pixelsPerImage
        var rng = SeededGenerator(seed: seed, Stream.augmentation.rawValue, UInt64(epoch), UInt64(index), 0x1AB)
        let k = Float(rng.uniform(0.55, 1)), blur = rng.unit() < 0.5, sigma = rng.uniform(0.02, 0.07)
        var mean: Float = 0
        for i in 0..<n { mean += out[i] }
        mean /= Float(n)
        for i in 0..<n { out[i] = (out[i] - mean) * k + mean }
        if blur {
            let copy = Array(UnsafeBufferPointer(start: out, count: n))
            for y in 0..<side {
                for x in 0..<side {
                    var total: Float = 0, count: Float = 0
                    for yy in max(0, y - 1)...min(side - 1, y + 1) {
                        for xx in max(0, x - 1)...min(side - 1, x + 1) { total += copy[yy * side + xx]; count += 1 }
                    }
                    out[y * side + x] = total / count
                }
            }
        }
        for i in 0..<n { out[i] = min(1, max(0, out[i] + Float(sigma * rng.normal()))) }
    }

    /// Writes the augmented face as floats in [0, 1].
    public func apply(
        _ face: ArraySlice<UInt8>, seed: UInt64, epoch: Int, index: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        let side = FaceDataset.side, n = FaceDataset.pixelsPerImage
        var rng = SeededGenerator(seed: seed, Stream.augmentation.rawValue, UInt64(epoch), UInt64(index))
        let base = face.startIndex
        // Draw every parameter in a fixed order, whether or not it is used, so switching one
        // transform off leaves the others' draws unchanged.
        let mirrored = rng.unit() < 0.5
        let cropX = Double(Int(rng.next() % UInt64(2 * cropPadding + 1)) - cropPadding)
        let cropY = Double(Int(rng.next() % UInt64(2 * cropPadding + 1)) - cropPadding)
        let angle = rng.uniform(-rotationDegrees, rotationDegrees) * Double.pi / 180
        let zoom = rng.uniform(1 - scale, 1 + scale)
        let shiftX = rng.uniform(-shift, shift) * Double(side), shiftY = rng.uniform(-shift, shift) * Double(side)
        let bright = rng.uniform(1 - brightness, 1 + brightness)
        let contrastFactor = rng.uniform(1 - contrast, 1 + contrast)
        let erase = rng.unit() < erasing
        let eraseArea = rng.uniform(0.02, 0.33), eraseAspect = exp(rng.uniform(log(0.3), log(3.3)))
        let eraseX = rng.unit(), eraseY = rng.unit()
        // Drawn last, so runs made before aspect jitter existed draw everything else the same.
        let stretch = exp(rng.uniform(-log1p(aspect), log1p(aspect))).squareRoot()

        if isGeometric {
            // Inverse map: output pixel -> nearest source pixel, zeros outside (like padding).
            // Nearest, as torchvision's RandomRotation and RandomAffine default to: bilinear
            // sampling would blur the pixel noise of training faces only, and the model would
            // learn on smoother images than it is evaluated on.
            // Sampling positions are divided by the zoom: x by zoom * stretch, y by zoom / stretch.
            let cosX = cos(angle) / (zoom * stretch), sinX = sin(angle) / (zoom * stretch)
            let cosY = cos(angle) / (zoom / stretch), sinY = sin(angle) / (zoom / stretch)
            let centre = Double(side) / 2
            let dx = cropX + shiftX, dy = cropY + shiftY
            for y in 0..<side {
                for x in 0..<side {
                    var ox = Double(x) + 0.5 - centre - dx
                    let oy = Double(y) + 0.5 - centre - dy
                    if flip && mirrored { ox = -ox }
                    let sx = cosX * ox + sinX * oy + centre - 0.5, sy = -sinY * ox + cosY * oy + centre - 0.5
                    out[y * side + x] = Augmentation.nearest(face, base, sx, sy) / 255
                }
            }
        } else {
            for i in 0..<n { out[i] = Float(face[base + i]) / 255 }
        }
        if brightness > 0 || contrast > 0 {
            var mean: Float = 0
            for i in 0..<n { mean += out[i] }
            mean /= Float(n)
            let b = Float(bright), k = Float(contrastFactor)
            for i in 0..<n { out[i] = min(1, max(0, ((out[i] - mean) * k + mean) * b)) }
        }
        if erase {
            let area = eraseArea * Double(n)
            let h = min(side, max(1, Int((area * eraseAspect).squareRoot())))
            let w = min(side, max(1, Int((area / eraseAspect).squareRoot())))
            let top = Int(eraseY * Double(side - h + 1)), left = Int(eraseX * Double(side - w + 1))
            var mean: Float = 0
            for i in 0..<n { mean += out[i] }
            mean /= Float(n)
            for y in top..<min(side, top + h) { for x in left..<min(side, left + w) { out[y * side + x] = mean } }
        }
    }

    static func nearest(_ face: ArraySlice<UInt8>, _ base: Int, _ x: Double, _ y: Double) -> Float {
        let side = FaceDataset.side
        let xx = Int((x).rounded()), yy = Int((y).rounded())
        return xx < 0 || yy < 0 || xx >= side || yy >= side ? 0 : Float(face[base + yy * side + xx])
    }
}
