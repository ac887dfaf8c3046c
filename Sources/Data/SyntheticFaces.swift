import Dispatch
import FacemineRandom
import Foundation

/// Procedurally drawn 48x48 faces: facemine's built-in default data (DESIGN.md §5).
///
/// Each face belongs to an identity (face shape, skin and hair tone, eye spacing, mouth and
/// brow size) and is drawn at a random pose (rotation, shift, scale) under a lighting gradient
/// with pixel noise. The expression moves brows, eyes, mouth and nose by the class's pattern
/// times a random intensity, so weak expressions look almost neutral: the task is learnable
/// but not trivial. Generation is deterministic by seed, byte for byte, on any thread count.
public struct SyntheticFaces: Sendable {
    public var count: Int
    public var seed: UInt64
    public var identities: Int
    /// Relative class frequencies, indexed by `Emotion.rawValue`.
    public var classWeights: [Double]
    /// How the photos look: the default single-source faces, or one source of the two-source benchmark.
    public var style: FaceStyle = .classic
    /// Expression intensities of non-neutral faces, and of contempt faces (drawn uniformly).
    public var intensity: ClosedRange<Double> = 0.25...1
    public var contemptIntensity: ClosedRange<Double> = 0.25...1
    /// Largest natural one-sided lift of a mouth corner, per identity, in pixels: real faces are
    /// not symmetric, so a weak contempt expression and a neutral face can look the same.
    public var asymmetry = 0.0
    /// Share of the faces photographed in the `lab` style whatever `style` says: posed studio
    /// photos among web images.
    public var studioShare = 0.0
    /// Share of the faces that show a different expression than their label (annotators
    /// disagree on FER-2013's faces); the shown class is drawn from the other present classes.
    public var labelNoise = 0.0

    /// FER-2013 (35,887 faces) and CK+ (`ckextended.csv`, 920) combined, per class: anger 4998,
    /// disgust 606, fear 5146, happiness 9058, sadness 6105, surprise 4085, neutral 6791,
    /// contempt 18. Contempt is raised from 0.05% to 0.5% so that a default-sized set has a few
    /// dozen contempt faces for the imbalance tools to work on, instead of two.
    public static let defaultClassWeights: [Double] = [4998, 606, 5146, 9058, 6105, 4085, 6791, 185]

    public init(
        count: Int = 6000, seed: UInt64 = 0, identities: Int? = nil,
        classWeights: [Double] = SyntheticFaces.defaultClassWeights
    ) {
        precondition(count > 0 && classWeights.count == Emotion.count && classWeights.allSatisfy { $0 >= 0 })
        self.count = count
        self.seed = seed
        self.identities = identities ?? max(1, count / 30)
        self.classWeights = classWeights
    }

    /// The labels, in order: class counts proportional to `classWeights` (largest remainders),
    /// shuffled by seed.
    public func labels() -> [Emotion] {
        let total = classWeights.reduce(0, +)
        let exact = classWeights.map { $0 / total * Double(count) }
        var counts = exact.map { Int($0) }
        let order = exact.indices.sorted { (exact[$0] - Double(counts[$0]), -$0) > (exact[$1] - Double(counts[$1]), -$1) }
        for i in order.prefix(count - counts.reduce(0, +)) { counts[i] += 1 }
        var labels = counts.enumerated().flatMap { [Emotion](repeating: Emotion(rawValue: $0.offset)!, count: $0.element) }
        var rng = SeededGenerator(seed: seed, Stream.labels.rawValue)
        labels.shuffle(using: &rng)
        return labels
    }

    /// What one face shows before it is drawn. `shown` differs from `label` for the faces whose
    /// label is noisy; `style` is `lab` for studio photos whatever the source's style.
    public struct Plan: Sendable {
        public let label: Emotion, shown: Emotion
        public let intensity: Double
        public let style: FaceStyle
        public let identity: Int
    }

    /// Every face's plan, in order (what `generate` draws).
    public func plans() -> [Plan] {
        let labels = labels()
        return labels.indices.map { plan($0, labels: labels).plan }
    }

    /// Face i's plan and the random stream its painter goes on drawing pose and light from.
    private func plan(_ i: Int, labels: [Emotion]) -> (plan: Plan, rng: SeededGenerator) {
        var rng = SeededGenerator(seed: seed, Stream.face.rawValue, UInt64(i))
        let identity = Int(rng.next() % UInt64(identities))
        // Label noise and studio photos draw from a stream of their own, so that faces without
        // them are the same as before those options existed.
        var extra = SeededGenerator(seed: seed, Stream.faceExtras.rawValue, UInt64(i))
        var shown = labels[i]
        if labelNoise > 0 && extra.uniform(0, 1) < labelNoise {
            let others = Emotion.allCases.filter { classWeights[$0.rawValue] > 0 && $0 != labels[i] }
            if !others.isEmpty { shown = others[Int(extra.next() % UInt64(others.count))] }
        }
        let range = shown == .contempt ? contemptIntensity : intensity
        let k = shown == .neutral ? 0 : rng.uniform(range.lowerBound, range.upperBound)
        let studio = studioShare > 0 && extra.uniform(0, 1) < studioShare
        return (Plan(label: labels[i], shown: shown, intensity: k, style: studio ? .lab : style, identity: identity), rng)
    }

    public func generate(threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> FaceDataset {
        let labels = labels()
        let perImage = FaceDataset.pixelsPerImage
        var pixels = [UInt8](repeating: 0, count: count * perImage)
        var identityOf = [Int](repeating: 0, count: count)
        pixels.withUnsafeMutableBufferPointer { buffer in
            identityOf.withUnsafeMutableBufferPointer { ids in
                let chunks = max(1, min(threads, count / 16))
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for i in (chunk * count / chunks)..<((chunk + 1) * count / chunks) {
                        var (p, rng) = plan(i, labels: labels)
                        ids[i] = p.identity
                        let face = FacePainter(
                            identity: Identity(seed: seed, index: p.identity, asymmetry: asymmetry),
                            expression: Expression(p.shown, intensity: p.intensity), style: p.style, rng: &rng)
                        face.draw(into: buffer.baseAddress! + i * perImage)
                    }
                }
            }
        }
        let source = style.source
        let records = (0..<count).map { i in
            FaceRecord(
                label: labels[i], source: source, group: "\(source.rawValue):\(identityOf[i])",
                origin: "\(source.rawValue) face \(i) (seed \(seed))")
        }
        return FaceDataset(pixels: pixels, records: records)
    }
}

/// What stays fixed for one synthetic person.
struct Identity {
    let faceWidth: Double, faceHeight: Double
    let skin: Double, hair: Double, hairline: Double
    let eyeSpacing: Double, eyeSize: Double, eyeHeight: Double
    let browThickness: Double, mouthWidth: Double, mouthHeight: Double, noseLength: Double
    /// The natural lift of one mouth corner (pixels; right corner if positive, left if negative).
    let cornerLift: Double

    init(seed: UInt64, index: Int, asymmetry: Double = 0) {
        var r = SeededGenerator(seed: seed, Stream.identity.rawValue, UInt64(index))
        faceWidth = r.uniform(13.5, 17)
        faceHeight = r.uniform(17, 20.5)
        skin = r.uniform(0.45, 0.8)
        hair = r.uniform(0.05, 0.4)
        hairline = r.uniform(-13.5, -10)
        eyeSpacing = r.uniform(6, 8)
        eyeSize = r.uniform(2.2, 3.2)
        eyeHeight = r.uniform(-4.5, -2.5)
        browThickness = r.uniform(0.9, 1.6)
        mouthWidth = r.uniform(5, 7.5)
        mouthHeight = r.uniform(8, 10)
        noseLength = r.uniform(4, 6)
        cornerLift = asymmetry * r.uniform(-1, 1)
    }
}

/// How far each facial feature moves from neutral, in rough pixel units at full intensity.
struct Expression {
    var browRaise = 0.0  // both brows up (+) or down (-)
    var browInner = 0.0  // inner ends up (+, sadness/fear) or down (-, anger)
    var eyeOpen = 0.0  // wider (+) or narrower (-), as a fraction of the eye's height
    var mouthCurve = 0.0  // corners up (+, smile) or down (-)
    var mouthOpen = 0.0  // jaw drop, pixels
    var mouthStretch = 0.0  // wider (+) or narrower (-), as a fraction of the width
    var cornerLift = 0.0  // one corner up only (contempt), pixels
    var noseWrinkle = 0.0  // creases beside the nose (disgust), 0...1

    init(_ emotion: Emotion, intensity k: Double) {
        switch emotion {
        case .neutral: break
        case .happiness: mouthCurve = 2.2 * k; mouthStretch = 0.25 * k; eyeOpen = -0.35 * k
        case .sadness: mouthCurve = -1.8 * k; browInner = 2.0 * k; eyeOpen = -0.2 * k
        case .anger: browRaise = -1.5 * k; browInner = -2.2 * k; mouthStretch = -0.2 * k; eyeOpen = -0.15 * k
        case .surprise: browRaise = 2.2 * k; eyeOpen = 0.7 * k; mouthOpen = 3.5 * k; mouthStretch = -0.35 * k
        case .fear: browRaise = 1.2 * k; browInner = 1.4 * k; eyeOpen = 0.6 * k; mouthOpen = 1.4 * k; mouthStretch = 0.35 * k
        case .disgust: noseWrinkle = k; mouthCurve = -0.8 * k; mouthOpen = 0.6 * k; eyeOpen = -0.4 * k; browRaise = -0.8 * k
        case .contempt: cornerLift = 2.2 * k; eyeOpen = -0.1 * k
        }
    }
}

/// Draws one face: inverse-maps every output pixel through the pose into face coordinates,
/// paints the features back to front with one-pixel soft edges, then adds light and noise.
struct FacePainter {
    let id: Identity
    let e: Expression
    let angle: Double, shiftX: Double, shiftY: Double, scale: Double
    let background: Double, lightAngle: Double, lightStrength: Double, noise: Double, contrast: Double
    let noiseSeed: UInt64
    /// Wild photos only: a box blur of this radius, and an occluding patch (x, y, side, gray).
    var blur = 0
    var occluder: (x: Int, y: Int, side: Int, gray: Double)?

    init(identity: Identity, expression: Expression, style: FaceStyle = .classic, rng: inout SeededGenerator) {
        id = identity
        e = expression
        let r = style.ranges
        angle = rng.uniform(-r.angle, r.angle)
        shiftX = rng.uniform(-r.shift, r.shift)
        shiftY = rng.uniform(-r.shift, r.shift)
        scale = rng.uniform(r.scale.0, r.scale.1)
        background = rng.uniform(r.background.0, r.background.1)
        lightAngle = rng.uniform(0, 2 * Double.pi)
        lightStrength = rng.uniform(0, r.light)
        noise = rng.uniform(r.noise.0, r.noise.1)
        contrast = rng.uniform(r.contrast.0, r.contrast.1)
        noiseSeed = rng.next()
        if style == .wild {
            blur = rng.uniform(0, 1) < 0.2 ? 1 : 0
            if rng.uniform(0, 1) < 0.1 {
                let side = 6 + Int(rng.next() % 7)
                occluder = (Int(rng.next() % UInt64(48 - side)), Int(rng.next() % UInt64(48 - side)), side, rng.uniform(0, 1))
            }
        }
    }

    func draw(into out: UnsafeMutablePointer<UInt8>) {
        let side = FaceDataset.side
        let c = cos(angle), s = sin(angle)
        var noiseRng = SeededGenerator(seed: noiseSeed)
        for py in 0..<side {
            for px in 0..<side {
                // Output pixel centre -> face coordinates (origin at the face centre, y down).
                let dx = (Double(px) + 0.5 - 24 - shiftX) / scale, dy = (Double(py) + 0.5 - 24 - shiftY) / scale
                let x = c * dx + s * dy, y = -s * dx + c * dy
                var v = shade(x, y)
                let light = 1 + lightStrength * ((Double(px) - 24) * cos(lightAngle) + (Double(py) - 24) * sin(lightAngle)) / 24
                v = 0.5 + (v * light - 0.5) * contrast + noise * noiseRng.normal()
                out[py * side + px] = UInt8(max(0, min(255, (v * 255).rounded())))
            }
        }
        if blur > 0 { boxBlur(out, radius: blur) }
        if let o = occluder {
            for y in o.y..<(o.y + o.side) {
                for x in o.x..<(o.x + o.side) { out[y * side + x] = UInt8((o.gray * 255).rounded()) }
            }
        }
    }

    /// A (2r+1)^2 box blur, clamped at the borders: a camera out of focus.
    func boxBlur(_ image: UnsafeMutablePointer<UInt8>, radius r: Int) {
        let side = FaceDataset.side
        let source = Array(UnsafeBufferPointer(start: image, count: side * side))
        for y in 0..<side {
            for x in 0..<side {
                var total = 0, n = 0
                for yy in max(0, y - r)...min(side - 1, y + r) {
                    for xx in max(0, x - r)...min(side - 1, x + r) { total += Int(source[yy * side + xx]); n += 1 }
                }
                image[y * side + x] = UInt8((total + n / 2) / n)
            }
        }
    }

    /// The gray value at face coordinates (x, y) before lighting and noise.
    func shade(_ x: Double, _ y: Double) -> Double {
        var v = background
        // Hair: a larger ellipse behind the face, visible above the hairline and at the sides.
        v = paint(v, hairCover(x, y), id.hair)
        v = paint(v, coverage(ellipseDistance(x, y, 0, 0, id.faceWidth, id.faceHeight)), id.skin)
        v = paint(
            v,
            coverage(
                max(
                    ellipseDistance(x, y, 0, -id.faceHeight * 0.55, id.faceWidth * 1.02, id.faceHeight * 0.6),
                    y - id.hairline)), id.hair)
        for side in [-1.0, 1.0] {
            let ex = side * id.eyeSpacing, ey = id.eyeHeight
            // Eye: a dark ellipse whose height follows the expression's openness.
            let openness = max(0.15, 1 + e.eyeOpen)
            v = paint(v, coverage(ellipseDistance(x, y, ex, ey, id.eyeSize, id.eyeSize * 0.55 * openness)), id.skin * 0.25)
            // Brow: a thick segment above the eye; inner end moves with browInner.
            let by = ey - id.eyeSize - 1.8 - e.browRaise
            let inner = (ex - side * id.eyeSize * 1.2, by - e.browInner * 0.8)
            let outer = (ex + side * id.eyeSize * 1.3, by + e.browInner * 0.2)
            v = paint(v, coverage(segmentDistance(x, y, inner, outer) - id.browThickness * 0.5), id.hair * 0.8)
        }
        // Nose: a short shaded ridge and nostrils; disgust adds creases beside it.
        v = paint(v, 0.5 * coverage(segmentDistance(x, y, (0.6, -1), (0.9, id.noseLength - 1)) - 0.4), id.skin * 0.75)
        for side in [-1.0, 1.0] {
            v = paint(v, coverage(ellipseDistance(x, y, side * 1.3, id.noseLength, 0.8, 0.5)), id.skin * 0.4)
            if e.noseWrinkle > 0 {
                let crease = segmentDistance(x, y, (side * 2.2, id.noseLength - 3), (side * 3.6, id.noseLength + 0.5)) - 0.35
                v = paint(v, e.noseWrinkle * coverage(crease), id.skin * 0.5)
            }
        }
        return paint(v, mouthCover(x, y), id.skin * 0.3)
    }

    func hairCover(_ x: Double, _ y: Double) -> Double {
        coverage(ellipseDistance(x, y, 0, -1.5, id.faceWidth + 2, id.faceHeight + 1.5)) * (y < id.faceHeight * 0.2 ? 1 : 0)
    }

    /// The mouth: a curved line (corners lifted by the smile, one corner by contempt) that
    /// opens into a dark ellipse as the jaw drops.
    func mouthCover(_ x: Double, _ y: Double) -> Double {
        let halfWidth = id.mouthWidth * (1 + e.mouthStretch)
        let u = x / halfWidth
        var line = 0.0
        if abs(u) <= 1.1 {
            let t = min(abs(u), 1)
            let centreY = id.mouthHeight - e.mouthCurve * (t * t) + e.mouthCurve * 0.35
            // Contempt lifts the right corner; a face's natural asymmetry lifts either one.
            let right = max(0, u), left = max(0, -u)
            let lift = e.cornerLift * right * right + max(0, id.cornerLift) * right * right + max(0, -id.cornerLift) * left * left
            line = coverage(abs(y - (centreY - lift)) - 0.6 - (abs(u) > 1 ? (abs(u) - 1) * 10 : 0))
        }
        guard e.mouthOpen > 0.2 else { return line }
        // The distance approximation stretches a thin ellipse's ends sideways (a slightly open
        // mouth drew a line across the whole photo), so the opening is also cut at its width.
        let rx = halfWidth * 0.8
        let open = min(
            coverage(ellipseDistance(x, y, 0, id.mouthHeight + e.mouthOpen * 0.4, rx, e.mouthOpen * 0.55)),
            coverage(abs(x) - rx))
        return max(line, open)
    }

    func paint(_ base: Double, _ amount: Double, _ colour: Double) -> Double { base + (colour - base) * amount }

    /// Coverage of a pixel by a shape from the signed distance to its edge: a one-pixel ramp.
    func coverage(_ distance: Double) -> Double { max(0, min(1, 0.5 - distance)) }

    /// Approximate signed distance to an axis-aligned ellipse (negative inside).
    func ellipseDistance(_ x: Double, _ y: Double, _ cx: Double, _ cy: Double, _ rx: Double, _ ry: Double) -> Double {
        let nx = (x - cx) / rx, ny = (y - cy) / ry
        return ((nx * nx + ny * ny).squareRoot() - 1) * min(rx, ry)
    }

    func segmentDistance(_ x: Double, _ y: Double, _ a: (Double, Double), _ b: (Double, Double)) -> Double {
        let abx = b.0 - a.0, aby = b.1 - a.1
        let t = max(0, min(1, ((x - a.0) * abx + (y - a.1) * aby) / (abx * abx + aby * aby)))
        let dx = x - (a.0 + t * abx), dy = y - (a.1 + t * aby)
        return (dx * dx + dy * dy).squareRoot()
    }
}

/// How synthetic photos look. `classic` is the built-in default data; `wild` and `lab` are the
/// two sources of the two-source benchmark, made to differ the way FER-2013 and CK+ do.
public enum FaceStyle: String, Sendable, Codable {
    case classic
    /// In the wild (FER-2013-like): varied pose, uneven light and background, noise, blur on
    /// 20% of the faces and an occluding patch (a hand, hair, a watermark) on 10%.
    case wild
    /// Lab (CK+-like): frontal, even light, tight crop, high contrast, clean.
    case lab

    var source: DataSource {
        switch self {
        case .classic: return .synthetic
        case .wild: return .syntheticWild
        case .lab: return .syntheticLab
        }
    }

    /// Ranges of the per-photo draws: rotation (radians), shift (pixels), scale, background,
    /// light strength, noise and contrast.
    var ranges:
        (
            angle: Double, shift: Double, scale: (Double, Double), background: (Double, Double), light: Double,
            noise: (Double, Double), contrast: (Double, Double)
        )
    {
        switch self {
        case .classic: return (0.2, 2.5, (0.9, 1.1), (0.15, 0.85), 0.3, (0.01, 0.05), (0.75, 1.15))
        case .wild: return (0.2, 2.5, (0.9, 1.1), (0.15, 0.85), 0.3, (0.015, 0.05), (0.75, 1.1))
        case .lab: return (0.03, 0.5, (1.12, 1.2), (0.55, 0.65), 0.05, (0.005, 0.015), (1.25, 1.45))
        }
    }
}

/// The two-source benchmark (the rare-class trap of FER-2013 + CK+): a large in-the-wild source
/// and a small lab source, where contempt exists only in the lab source and disgust is rare in
/// both, as in the real data. A weighted sampler that balances classes alone then teaches a small
/// model "looks like a lab photo -> contempt", and repeats the few contempt faces until a large
/// one learns them by heart (docs/RESULTS.md). Deterministic by seed.
public struct TwoSourceFaces: Sendable {
    public var count: Int
    public var seed: UInt64
    /// Share of the faces from the lab source.
    public var labShare: Double
    public var wildWeights: [Double]
    public var labWeights: [Double]
    /// What makes the benchmark hard the way FER-2013 is (plain training: ResNet-18 about 0.78
    /// accuracy, MyCNN 0.61-0.72), so that a large model cannot simply learn every face, and the
    /// imbalance tools are judged where they matter: expressions in the wild are often subtle;
    public var wildIntensity: ClosedRange<Double> = 0.15...0.8
    /// lab contempt is often subtle too (CK+ frames near the start of a sequence);
    public var contemptIntensity: ClosedRange<Double> = 0...1
    /// faces are not symmetric, so weak contempt and some neutral faces look alike;
    public var asymmetry = 1.5
    /// FER-2013 came from web image searches, and many of its faces are posed studio photos
    /// that look like lab ones;
    public var studioShare = 0.3
    /// and annotators disagree on many FER-2013 faces: this share of the wild faces shows
    /// another expression than its label says.
    public var wildLabelNoise = 0.15

    /// FER-2013's class mix without contempt (which FER-2013 lacks).
    public static let defaultWildWeights: [Double] = [4953, 547, 5121, 8989, 6077, 4002, 6198, 0]
    /// A CK+-like lab mix: many neutral and posed surprise/happiness, contempt 8%, disgust 6%.
    public static let defaultLabWeights: [Double] = [10, 6, 6, 15, 8, 18, 29, 8]

    public init(
        count: Int = 6000, seed: UInt64 = 0, labShare: Double = 0.1,
        wildWeights: [Double] = TwoSourceFaces.defaultWildWeights, labWeights: [Double] = TwoSourceFaces.defaultLabWeights
    ) {
        precondition(count >= 20 && labShare > 0 && labShare < 1)
        self.count = count
        self.seed = seed
        self.labShare = labShare
        self.wildWeights = wildWeights
        self.labWeights = labWeights
    }

    /// The two sources' generators; their `plans()` say what each face shows.
    public var sources: (wild: SyntheticFaces, lab: SyntheticFaces) {
        let labCount = max(1, Int((Double(count) * labShare).rounded()))
        var wild = SyntheticFaces(count: count - labCount, seed: seed, classWeights: wildWeights)
        wild.style = .wild
        wild.intensity = wildIntensity
        wild.asymmetry = asymmetry
        wild.studioShare = studioShare
        wild.labelNoise = wildLabelNoise
        // Lab sessions: few subjects, many photos each (CK+ has 123 subjects for 920 photos).
        var lab = SyntheticFaces(count: labCount, seed: seed &+ 0x1AB, identities: max(1, labCount / 8), classWeights: labWeights)
        lab.style = .lab
        lab.contemptIntensity = contemptIntensity
        lab.asymmetry = asymmetry
        return (wild, lab)
    }

    public func generate(threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> FaceDataset {
        let (wild, lab) = sources
        let a = wild.generate(threads: threads), b = lab.generate(threads: threads)
        return FaceDataset(pixels: a.pixels + b.pixels, records: a.records + b.records)
    }
}
