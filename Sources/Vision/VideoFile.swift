import FacemineData
import Foundation

/// The C functions of libFacemineVideo.so (Sources/System/CVideo/include/Video.h), opened at
/// run time: OpenCV's video I/O loads some 240 libraries, which facemine should not load at
/// every start for the few commands that read a video.
final class VideoLibrary {
    typealias Open = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>, Int) -> OpaquePointer?
    typealias Close = @convention(c) (OpaquePointer) -> Void
    typealias Size = @convention(c) (OpaquePointer) -> Int32
    typealias Rate = @convention(c) (OpaquePointer) -> Double
    typealias Count = @convention(c) (OpaquePointer) -> Int
    typealias Next = @convention(c) (OpaquePointer, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>?) -> Int32
    typealias WriterOpen =
        @convention(c) (UnsafePointer<CChar>, Int32, Int32, Double, UnsafeMutablePointer<CChar>, Int) -> OpaquePointer?
    typealias Write = @convention(c) (OpaquePointer, UnsafePointer<UInt8>) -> Int32

    let open: Open, close: Close, width: Size, height: Size, fps: Rate, frameCount: Count, next: Next
    let writerOpen: WriterOpen, write: Write, writerClose: Close

    static let fileName = "libFacemineVideo.so"

    /// The library beside the running binary (or at `FACEMINE_VIDEO_LIBRARY`), opened once.
    static let shared = Result { try VideoLibrary() }

    private init() throws {
        let path =
            ProcessInfo.processInfo.environment["FACEMINE_VIDEO_LIBRARY"]
            ?? URL(fileURLWithPath: Self.executablePath).deletingLastPathComponent().appendingPathComponent(Self.fileName).path
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw VisionError(
                "cannot read videos: \(Self.fileName) did not load (\(reason)); it is built beside facemine by "
                    + "`swift build -c release` (not `--product facemine`) with Debian's libopencv-videoio-dev installed")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let s = dlsym(handle, name) else { throw VisionError("\(path) has no \(name): rebuild it with this facemine") }
            return unsafeBitCast(s, to: type)
        }
        open = try symbol("fm_video_open", as: Open.self)
        close = try symbol("fm_video_close", as: Close.self)
        width = try symbol("fm_video_width", as: Size.self)
        height = try symbol("fm_video_height", as: Size.self)
        fps = try symbol("fm_video_fps", as: Rate.self)
        frameCount = try symbol("fm_video_frame_count", as: Count.self)
        next = try symbol("fm_video_next", as: Next.self)
        writerOpen = try symbol("fm_video_writer_open", as: WriterOpen.self)
        write = try symbol("fm_video_writer_write", as: Write.self)
        writerClose = try symbol("fm_video_writer_close", as: Close.self)
    }

    /// The running binary's own path (the tests' runner when tests call this).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// A video file read frame by frame, each frame in gray (for the detector) and in colour (for
/// an annotated copy).
public final class VideoReader {
    private let library: VideoLibrary
    private let video: OpaquePointer
    public let path: String
    public let width: Int, height: Int
    /// Frames per second as the file states it (0 when it does not).
    public let fps: Double
    /// As the file states it; nil when unknown.
    public let frameCount: Int?

    public init(_ path: String) throws {
        library = try VideoLibrary.shared.get()
        guard FileManager.default.fileExists(atPath: path) else { throw VisionError("\(path): no such file") }
        var error = [CChar](repeating: 0, count: 512)
        guard let v = library.open(path, &error, error.count) else { throw VisionError("\(path): \(String(cString: error))") }
        video = v
        self.path = path
        width = Int(library.width(v))
        height = Int(library.height(v))
        fps = library.fps(v)
        let count = library.frameCount(v)
        frameCount = count > 0 ? count : nil
    }

    deinit { library.close(video) }

    /// The next frame, or nil at the end of the video.
    public func next() -> (gray: GrayImage, colour: ColourImage)? {
        var gray = [UInt8](repeating: 0, count: width * height)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        guard library.next(video, &gray, &rgb) == 1 else { return nil }
        return (GrayImage(width: width, height: height, pixels: gray), ColourImage(width: width, height: height, pixels: rgb))
    }
}

/// A video written frame by frame: Motion-JPEG for .avi, MPEG-4 part 2 otherwise.
public final class VideoWriter {
    private let library: VideoLibrary
    private let writer: OpaquePointer
    public let path: String
    let width: Int, height: Int

    public init(_ path: String, width: Int, height: Int, fps: Double) throws {
        library = try VideoLibrary.shared.get()
        var error = [CChar](repeating: 0, count: 512)
        guard let w = library.writerOpen(path, Int32(width), Int32(height), fps, &error, error.count) else {
            throw VisionError("\(path): \(String(cString: error))")
        }
        writer = w
        self.path = path
        self.width = width
        self.height = height
    }

    deinit { library.writerClose(writer) }

    public func append(_ frame: ColourImage) throws {
        precondition(
            frame.width == width && frame.height == height,
            "a \(frame.width)x\(frame.height) frame for a \(width)x\(height) video")
        guard frame.pixels.withUnsafeBufferPointer({ library.write(writer, $0.baseAddress!) }) == 0 else {
            throw VisionError("\(path): cannot write a frame")
        }
    }
}
