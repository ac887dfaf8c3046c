import ArgumentParser
import FacemineData
import FacemineTraining
import FacemineVision
import Foundation

extension PredictCommand {
    /// One classified frame of a video (a JSON line under --json), or why the video could not be read.
    struct FramePrediction: Codable {
        var video: String
        var frame: Int?
        /// The frame's time from the video's start, when the file states its frame rate.
        var seconds: Double?
        /// Every face found (empty: none); nil under --detect never, where the frame is one face.
        var faces: [FacePrediction]?
        var classes: [String]?
        var probabilities: [Double]?
        var error: String?
    }

    /// Each video's classified frames, printed as they come; a video that cannot be read is
    /// named (and the exit status is 1) while the others still run.
    func predictVideos(_ paths: [String], predictor: Predictor, finder: inout FaceFinder, annotation: AnnotationTarget?) throws {
        var failed = false
        for path in paths {
            do {
                try predictVideo(path, predictor: predictor, finder: &finder, annotation: annotation)
            } catch {
                let reason = error is VisionError ? "\(error)" : "\(path): \(systemReason(error))"
                note(reason)
                if json { emit(FramePrediction(video: path, error: reason)) }
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    private func predictVideo(_ path: String, predictor: Predictor, finder: inout FaceFinder, annotation: AnnotationTarget?)
        throws
    {
        let reader = try VideoReader(path)
        let writer = try annotation.map {
            try VideoWriter($0.destination(for: path), width: reader.width, height: reader.height, fps: reader.fps)
        }
        let start = Date()
        var frame = 0, classified = 0
        // The boxes of the last classified frame stay drawn on the frames skipped after it.
        var boxes: [DetectedFace] = [], labels: [String] = []
        while let (gray, colour) = reader.next() {
            if frame % every == 0 {
                var result = FramePrediction(
                    video: path, frame: frame, seconds: reader.fps > 0 ? Double(frame) / reader.fps : nil)
                if let found = try finder.faces(in: gray) {
                    let ranked = try classify(found.map(\.crop), predictor)
                    result.faces = zip(found, ranked).map {
                        FacePrediction(box: $0.box, classes: $1.classes, probabilities: $1.probabilities)
                    }
                    boxes = found.map(\.box)
                    labels = ranked.map { AnnotationTarget.label($0.classes, $0.probabilities) }
                } else {
                    let ranked = try classify([gray.face()], predictor)[0]
                    (result.classes, result.probabilities) = (ranked.classes, ranked.probabilities)
                    boxes = [DetectedFace(x: 0, y: 0, width: gray.width, height: gray.height)]
                    labels = [AnnotationTarget.label(ranked.classes, ranked.probabilities)]
                }
                emit(result)
                classified += 1
            }
            try writer?.append(try Annotation.draw(boxes, labels: labels, on: colour))
            frame += 1
        }
        let seconds = Date().timeIntervalSince(start)
        note(
            "\(path): \(frame) frames, \(classified) classified in "
                + String(
                    format: "%.1f s (%.1f frames/s)", seconds,
                    Double(classified) / max(seconds, 1e-9))
                + (writer.map { "; annotated copy \($0.path)" } ?? ""))
    }

    /// "happiness 0.912, surprise 0.050, ...": a face's top classes for the terminal.
    static func rankedText(_ classes: [String], _ probabilities: [Double]) -> String {
        zip(classes, probabilities).map { "\($0) " + String(format: "%.3f", $1) }.joined(separator: ", ")
    }

    /// The top classes of each 48x48 face, best first (images and video frames alike).
    func classify(_ faces: [[UInt8]], _ predictor: Predictor) throws -> [(classes: [String], probabilities: [Double])] {
        guard !faces.isEmpty else { return [] }
        let input = faces.flatMap { $0.map { (Float($0) / 255 - PrefetchingBatcher.mean) / PrefetchingBatcher.std } }
        let p = try predictor.probabilities(input, count: faces.count)
        return (0..<faces.count).map { k in
            let row = Array(p[(k * Emotion.count)..<((k + 1) * Emotion.count)])
            let ranked = (0..<Emotion.count).sorted { row[$0] > row[$1] }.prefix(top)
            return (ranked.map { Emotion(rawValue: $0)!.name }, ranked.map { row[$0] })
        }
    }

    /// A frame's line: JSON under --json, else one line per face.
    private func emit(_ r: FramePrediction) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: (try? encoder.encode(r)) ?? Data(), as: UTF8.self))
            return
        }
        guard let frame = r.frame else { return }
        let at = "\(r.video) frame \(frame)" + (r.seconds.map { String(format: " (%.2f s)", $0) } ?? "")
        let ranked = Self.rankedText
        if let classes = r.classes, let probabilities = r.probabilities { print("\(at): " + ranked(classes, probabilities)) }
        guard let faces = r.faces else { return }
        if faces.isEmpty { print("\(at): no face found") }
        for f in faces {
            print(
                "\(at): face at x \(f.box.x), y \(f.box.y), \(f.box.width)x\(f.box.height): " + ranked(f.classes, f.probabilities)
            )
        }
    }
}

extension PredictCommand.FramePrediction {
    init(video: String, frame: Int? = nil, seconds: Double? = nil, error: String? = nil) {
        self.init(video: video, frame: frame, seconds: seconds, faces: nil, classes: nil, probabilities: nil, error: error)
    }
}
