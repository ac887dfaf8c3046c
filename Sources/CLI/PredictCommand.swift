import ArgumentParser
import FacemineBackends
import FacemineData
import FacemineNN
import FacemineTraining
import FacemineVision
import Foundation

/// When `predict` looks for faces in an image instead of taking the whole image as one face.
enum DetectionMode: String, CaseIterable, ExpressibleByArgument {
    /// In images more than twice a face crop's side (96 pixels) in width or height: photos.
    case auto
    case always
    case never
}

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify the faces in images (PNG or JPEG, files or folders of them) or videos with a checkpoint.",
        discussion: """
            A face crop (up to 96 pixels a side) is classified whole, as training saw faces. In a larger \
            image (a photo) or a video frame every face is found with OpenCV's cascade detector, turned so \
            its eyes are level, cropped to 48x48 gray and classified; --annotate draws the boxes. A video \
            (.mp4, .avi, .mov, .mkv, .webm) gives one line per classified frame (--json: JSON lines).
            """)

    @Argument(help: "A checkpoint written by facemine train (or a unit of cv).") var checkpoint: String
    @Argument(help: "Images to classify, or folders of them (searched recursively for .png, .jpg, .jpeg).") var images: [String]
    @Option(parsing: .unconditional, help: "How many classes to show per face.") var top = 3
    @Option(help: ArgumentHelp("\(BackendChoice.names).")) var backend: BackendChoice = .auto
    @Option(help: "Test-time augmentation: none, flip or tencrop (default: the checkpoint's).") var tta: TestTimeAugmentation?
    @Option(help: "Look for faces: auto (in images larger than a face crop), always, or never (the whole image is one face).")
    var detect: DetectionMode = .auto
    @Option(parsing: .unconditional, help: "Smallest face to look for, in pixels.") var minFace = 24
    @Option(help: "Write a copy of each image or video with its faces boxed and labelled: a file for one input, else a folder.")
    var annotate: String?
    @Option(parsing: .unconditional, help: "In a video, classify every Nth frame (an annotated copy keeps every frame).")
    var every = 1
    @Flag(help: "Print JSON: one entry per image, with its faces and classes or why it could not be read.") var json = false

    /// One image's result: its top classes (a face crop), its faces (a photo; empty when none
    /// was found), or the reason it could not be classified.
    struct Prediction: Codable {
        var image: String
        var classes: [String]?
        var probabilities: [Double]?
        var faces: [FacePrediction]?
        var error: String?
    }

    struct FacePrediction: Codable {
        var box: DetectedFace
        var classes: [String] = []
        var probabilities: [Double] = []
    }

    static let extensions: Set<String> = ["png", "jpg", "jpeg"]
    static let annotationExtensions: Set<String> = ["png", "jpg", "jpeg"]
    static let videoExtensions: Set<String> = ["mp4", "avi", "mov", "mkv", "webm", "m4v", "mpg", "mpeg"]
    /// Faces classified per forward pass: bounds memory for a folder of any size.
    static let chunk = 256
    /// Images up to this side are face crops under `--detect auto`.
    static let largestCrop = 2 * FaceDataset.side

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image or folder") }
        guard (1...Emotion.count).contains(top) else { throw ValidationError("--top must be 1...\(Emotion.count)") }
        guard minFace >= 12 else { throw ValidationError("--min-face must be at least 12 pixels") }
        guard every >= 1 else { throw ValidationError("--every must be at least 1") }
        let videos = images.filter(Self.isVideo)
        guard videos.isEmpty || videos.count == images.count else {
            throw ValidationError("give videos and images in separate commands (videos print one line per frame)")
        }
    }

    static func isVideo(_ path: String) -> Bool { videoExtensions.contains((path as NSString).pathExtension.lowercased()) }

    func run() throws {
        let file = try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint))
        let (config, saved) = try Checkpoint.describe(file, location: checkpoint)
        guard config.posthocAdjustment == 0 || saved.classLogPriors != nil else {
            throw CommandFailure(
                "\(checkpoint) was trained with --posthoc-adjustment but keeps no class priors (an older checkpoint); "
                    + "facemine evaluate applies it with the data, predict cannot")
        }
        let paths = try expandedPaths()
        let annotation = try annotate.map { try AnnotationTarget($0, inputs: paths) }
        let (device, _) = try backend.makeBackend()
        let model = try config.model.make(device, stem: config.stem, dropout: config.dropout, seed: config.seed)
        try Checkpoint.loadWeights(file, into: model, backend: device, location: checkpoint)
        let predictor = Predictor(model: model, backend: device, configuration: config, state: saved, tta: tta)
        var finder = FaceFinder(mode: detect, minFace: minFace)
        if paths.allSatisfy(Self.isVideo) {
            return try predictVideos(paths, predictor: predictor, finder: &finder, annotation: annotation)
        }

        var predictions: [Prediction] = []
        // Faces waiting for a forward pass: (image, face within it or nil for a crop, pixels).
        var pending: [(image: Int, face: Int?, pixels: [UInt8])] = []
        func classifyPending() throws {
            for (item, (classes, probabilities)) in zip(pending, try classify(pending.map(\.pixels), predictor)) {
                if let face = item.face {
                    predictions[item.image].faces![face].classes = classes
                    predictions[item.image].faces![face].probabilities = probabilities
                } else {
                    predictions[item.image].classes = classes
                    predictions[item.image].probabilities = probabilities
                }
            }
            pending.removeAll()
        }
        for path in paths {
            predictions.append(Prediction(image: path))
            let index = predictions.count - 1
            do {
                guard FileManager.default.fileExists(atPath: path) else { throw DataError(path, "no such file") }
                let image = try GrayImage(decoding: [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
                if let found = try finder.faces(in: image) {
                    predictions[index].faces = found.map { FacePrediction(box: $0.box) }
                    pending += found.enumerated().map { (index, $0.offset, $0.element.crop) }
                } else {
                    pending.append((index, nil, image.face()))
                }
            } catch {
                let reason = error is DataError || error is VisionError ? "\(error)" : systemReason(error)
                let what = error is VisionError ? "cannot look for faces" : "cannot read the image"
                predictions[index].error = "\(what) (\(reason))"
                note("\(path): \(what) (\(reason))")
            }
            if pending.count >= Self.chunk { try classifyPending() }
        }
        try classifyPending()
        if let annotation {
            for p in predictions where p.error == nil {
                do {
                    try annotation.write(p)
                } catch {
                    note(
                        "\(p.image): cannot write the annotated copy (\(error is DataError || error is VisionError ? "\(error)" : systemReason(error)))"
                    )
                    throw ExitCode(1)
                }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(predictions), as: UTF8.self))
        } else {
            let ranked = Self.rankedText
            for p in predictions {
                if let classes = p.classes, let probabilities = p.probabilities {
                    print("\(p.image): " + ranked(classes, probabilities))
                }
                guard let faces = p.faces else { continue }
                if faces.isEmpty {
                    print("\(p.image): no face found (looked for faces of at least \(minFace) pixels: --min-face)")
                }
                for f in faces {
                    let b = f.box
                    print(
                        "\(p.image): face at x \(b.x), y \(b.y), \(b.width)x\(b.height)\(b.eyes == nil ? "" : " (eyes levelled)"): "
                            + ranked(f.classes, f.probabilities))
                }
            }
        }
        if predictions.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }

    /// The images named, with each folder replaced by the images inside it (sorted, recursive).
    /// A folder without images, or a path that does not exist, is an error naming it.
    func expandedPaths() throws -> [String] {
        var paths: [String] = []
        for path in images {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                paths.append(path)  // reported as unreadable with the others
                continue
            }
            guard isFolder.boolValue else { paths.append(path); continue }
            let found = (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? [])
                .filter { Self.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            guard !found.isEmpty else { throw CommandFailure("\(path): no .png, .jpg or .jpeg images in this folder") }
            paths += found.map { (path as NSString).appendingPathComponent($0) }
        }
        return paths
    }
}

extension PredictCommand.Prediction {
    init(image: String) { self.init(image: image, classes: nil, probabilities: nil, faces: nil, error: nil) }
}

/// The faces of each image as `--detect` asks: nil for an image taken whole as one face crop,
/// else the faces found with their crops. The detector loads on the first photo.
struct FaceFinder {
    let mode: DetectionMode
    let minFace: Int
    private var detector: Result<FaceDetector, Error>?

    init(mode: DetectionMode, minFace: Int) {
        self.mode = mode
        self.minFace = minFace
    }

    mutating func faces(in image: GrayImage) throws -> [(box: DetectedFace, crop: [UInt8])]? {
        let photo = max(image.width, image.height) > PredictCommand.largestCrop
        guard mode == .always || (mode == .auto && photo) else { return nil }
        if detector == nil { detector = Result { try FaceDetector() } }
        let found = try detector!.get().faces(in: image, minFace: minFace)
        return try found.map { ($0, try $0.crop(from: image)) }
    }
}

/// Where `--annotate` writes: one file for one input, else a folder of copies named as the inputs.
struct AnnotationTarget {
    let path: String
    let isFolder: Bool

    init(_ path: String, inputs: [String]) throws {
        self.path = path
        let ext = (path as NSString).pathExtension.lowercased()
        let file =
            inputs.allSatisfy(PredictCommand.isVideo)
            ? PredictCommand.videoExtensions.contains(ext)
            : PredictCommand.annotationExtensions.contains(ext)
        isFolder = !(inputs.count == 1 && file)
        if isFolder {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw CommandFailure("--annotate \(path): cannot create the folder (\(systemReason(error)))")
            }
        } else {
            let folder = (path as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            guard
                folder.isEmpty
                    || (FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue)
            else {
                throw CommandFailure("--annotate \(path): the folder \(folder) does not exist")
            }
        }
    }

    /// The image with each face boxed and labelled with its top class (a crop: one box around it all).
    func write(_ p: PredictCommand.Prediction) throws {
        let image = try ColourImage(decoding: [UInt8](Data(contentsOf: URL(fileURLWithPath: p.image))))
        var boxes: [DetectedFace] = [], labels: [String] = []
        if let faces = p.faces {
            boxes = faces.map(\.box)
            labels = faces.map { Self.label($0.classes, $0.probabilities) }
        } else if let classes = p.classes, let probabilities = p.probabilities {
            boxes = [DetectedFace(x: 0, y: 0, width: image.width, height: image.height)]
            labels = [Self.label(classes, probabilities)]
        }
        let out = destination(for: p.image)
        let drawn = try Annotation.draw(boxes, labels: labels, on: image)
        try Data(drawn.encoded(for: out)).write(to: URL(fileURLWithPath: out), options: .atomic)
    }

    /// A face's label on an annotated copy: its top class and probability.
    static func label(_ classes: [String], _ probabilities: [Double]) -> String {
        classes.first.map { "\($0) " + String(format: "%.2f", probabilities[0]) } ?? "?"
    }

    /// The annotated copy's path for an input.
    func destination(for input: String) -> String {
        isFolder ? (path as NSString).appendingPathComponent((input as NSString).lastPathComponent) : path
    }
}
