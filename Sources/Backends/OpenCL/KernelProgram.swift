import COpenCL
import FacemineDevice
import Foundation

/// The kernels of `Kernels/*.cl`, embedded at build time by the EmbedKernels plugin, as one
/// OpenCL program: `common.cl` (shared helpers) first, then every other file in name order.
enum KernelProgram {
    static let source: String = {
        let files = EmbeddedKernels.files.sorted { a, b in
            a.name == "common.cl" ? b.name != "common.cl" : (b.name == "common.cl" ? false : a.name < b.name)
        }
        return files.map { "// ---- \($0.name)\n\($0.source)" }.joined(separator: "\n")
    }()

    /// Work-group size of every reduction kernel; 256 is within every GPU's limit and PoCL's.
    static let groupSize = 256
    static let buildOptions = "-cl-std=CL1.2 -D FM_GROUP=\(groupSize)"

    /// How the program came to be, for `facemine bench` and the startup line.
    struct BuildReport: Sendable {
        var seconds: Double
        var fromDiskCache: Bool
        var cacheFile: String?
    }

    /// Builds the program for one device, loading the compiled binary from the disk cache when
    /// an identical build (same platform, device, driver, source and options) was cached, and
    /// caching it otherwise. A stale or corrupt cache entry is rebuilt from source, never fatal.
    static func build(
        context: cl_context, device: cl_device_id, info: OpenCLDeviceInfo,
        source: String = KernelProgram.source,
        cacheDirectory: URL? = ProgramCache.directory
    ) throws -> (cl_program, BuildReport) {
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let cacheFile = cacheDirectory.map {
            ProgramCache.file(
                in: $0,
                for: [
                    info.platform, info.name, info.vendor, info.driverVersion, info.openCLVersion,
                    String(ProgramCache.hash(source), radix: 16), buildOptions,
                ])
        }
        if let cacheFile, let binary = ProgramCache.read(cacheFile),
            let program = fromBinary(binary, context: context, device: device)
        {
            return (program, BuildReport(seconds: seconds(), fromDiskCache: true, cacheFile: cacheFile.path))
        }
        let program = try fromSource(source, context: context, device: device, info: info)
        if let cacheFile, let binary = binary(of: program) { ProgramCache.write(binary, to: cacheFile) }
        return (program, BuildReport(seconds: seconds(), fromDiskCache: false, cacheFile: cacheFile?.path))
    }

    private static func fromSource(_ source: String, context: cl_context, device: cl_device_id, info: OpenCLDeviceInfo) throws
        -> cl_program
    {
        var status: cl_int = CL_SUCCESS
        let program: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context, 1, &pointer, nil, &status)
        }
        guard let program, status == CL_SUCCESS else {
            throw OpenCLStatus.error(status, "creating the kernel program", device: info.name)
        }
        var target: cl_device_id? = device
        let built = clBuildProgram(program, 1, &target, buildOptions, nil, nil)
        guard built == CL_SUCCESS else {
            let log = buildLog(program, device: device)
            clReleaseProgram(program)
            throw DeviceError.failed(
                "OpenCL kernel build failed on \(info.name) (\(info.driverVersion)): \(log.isEmpty ? "status \(built)" : log)")
        }
        return program
    }

    private static func fromBinary(_ binary: [UInt8], context: cl_context, device: cl_device_id) -> cl_program? {
        var status: cl_int = CL_SUCCESS, binaryStatus: cl_int = CL_SUCCESS
        var target: cl_device_id? = device
        var length = binary.count
        let program: cl_program? = binary.withUnsafeBufferPointer { bytes in
            var pointer: UnsafePointer<UInt8>? = bytes.baseAddress
            return clCreateProgramWithBinary(context, 1, &target, &length, &pointer, &binaryStatus, &status)
        }
        guard let program else { return nil }
        guard status == CL_SUCCESS, binaryStatus == CL_SUCCESS,
            clBuildProgram(program, 1, &target, buildOptions, nil, nil) == CL_SUCCESS
        else {
            clReleaseProgram(program)
            return nil
        }
        return program
    }

    private static func binary(of program: cl_program) -> [UInt8]? {
        var size = 0
        guard
            clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil) == CL_SUCCESS,
            size > 0
        else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBufferPointer { buffer -> cl_int in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return clGetProgramInfo(
                program, cl_program_info(CL_PROGRAM_BINARIES),
                MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &pointer, nil)
        }
        return status == CL_SUCCESS ? bytes : nil
    }

    /// The compiler's log on one line (the first errors are what matters), at most 600 characters.
    private static func buildLog(_ program: cl_program, device: cl_device_id) -> String {
        let log = OpenCLDevices.string {
            clGetProgramBuildInfo(program, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
        }
        let lines = log.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let joined = lines.joined(separator: " | ")
        return joined.count > 600 ? String(joined.prefix(600)) + " ..." : joined
    }
}

/// Compiled kernel binaries on disk: `$FACEMINE_CACHE_DIR/opencl`, else
/// `$XDG_CACHE_HOME/facemine/opencl`, else `~/.cache/facemine/opencl`. The file name is a hash
/// of everything that could change the binary, so a driver update or an edited kernel simply
/// misses the cache.
enum ProgramCache {
    static var directory: URL? {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["FACEMINE_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir).appendingPathComponent("opencl") }
        if let dir = env["XDG_CACHE_HOME"], !dir.isEmpty {
            return URL(fileURLWithPath: dir).appendingPathComponent("facemine/opencl")
        }
        if let home = env["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".cache/facemine/opencl")
        }
        return nil
    }

    static func file(in directory: URL, for keyParts: [String], extension suffix: String = "bin") -> URL {
        let key = keyParts.joined(separator: "\u{1f}")
        let name = String(hash(key), radix: 16) + "-" + String(hash(key, basis: 0x84222325CBF29CE4), radix: 16)
        return directory.appendingPathComponent("\(name).\(suffix)")
    }

    /// FNV-1a, 64 bits: a cache key, not a security boundary (two bases give 128 bits).
    static func hash(_ text: String, basis: UInt64 = 0xCBF29CE484222325) -> UInt64 {
        var h = basis
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100000001B3
        }
        return h
    }

    static func read(_ file: URL) -> [UInt8]? {
        guard let data = try? Data(contentsOf: file), !data.isEmpty else { return nil }
        return [UInt8](data)
    }

    /// Temp file + rename, so a concurrent or killed writer never leaves half a binary. A cache
    /// that cannot be written (read-only home, full disk) only costs the next run a rebuild.
    static func write(_ binary: [UInt8], to file: URL) {
        let dir = file.deletingLastPathComponent()
        let temp = dir.appendingPathComponent(".\(file.lastPathComponent).\(getpid()).tmp")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(binary).write(to: temp)
            guard rename(temp.path, file.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: temp)
        }
    }
}

extension OpenCLBackend {
    /// Seconds to build the kernel program for device `index` with an empty disk cache
    /// (compiling from source) and then again from the cache it filled (what a second run pays),
    /// in a temporary cache folder that is removed afterwards.
    public static func measureKernelBuild(device index: Int) throws -> (compile: Double, cachedLoad: Double) {
        let shared = try OpenCLContext.shared(device: index)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-kernel-cache-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (cold, coldReport) = try KernelProgram.build(
            context: shared.context, device: shared.device, info: shared.info, cacheDirectory: dir)
        clReleaseProgram(cold)
        let (warm, warmReport) = try KernelProgram.build(
            context: shared.context, device: shared.device, info: shared.info, cacheDirectory: dir)
        clReleaseProgram(warm)
        return (coldReport.seconds, warmReport.seconds)
    }
}
