@testable import FacemineOpenCL
import FacemineBackends
import FacemineDevice
import Foundation
import Testing

/// Compiled kernels are cached on disk, a stale or corrupt cache is rebuilt, and a kernel that
/// does not compile is reported with the compiler's own words on one line.
@Suite struct ProgramCacheTests {
    let shared = try! OpenCLContext.shared(device: 0)

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facemine-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func secondBuildLoadsTheBinaryAndACorruptOneIsRebuilt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A small program of its own, so the test does not wait for the whole kernel set.
        let source = "__kernel void twice(__global float* x) { x[get_global_id(0)] *= 2.0f; }"
        let (first, report1) = try KernelProgram.build(
            context: shared.context, device: shared.device, info: shared.info,
            source: source, cacheDirectory: dir)
        #expect(!report1.fromDiskCache)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".bin") }
        #expect(files.count == 1, "one cached binary, no temp files left: \(files)")
        let (second, report2) = try KernelProgram.build(
            context: shared.context, device: shared.device, info: shared.info,
            source: source, cacheDirectory: dir)
        #expect(report2.fromDiskCache && report2.cacheFile == report1.cacheFile)

        try Data("not a binary".utf8).write(to: URL(fileURLWithPath: report1.cacheFile!))
        let (third, report3) = try KernelProgram.build(
            context: shared.context, device: shared.device, info: shared.info,
            source: source, cacheDirectory: dir)
        #expect(!report3.fromDiskCache, "a corrupt cache entry is rebuilt from source")
        #expect(try Data(contentsOf: URL(fileURLWithPath: report3.cacheFile!)).count > 100, "and rewritten")

        // A different source (an edited kernel) misses the cache.
        let (fourth, report4) = try KernelProgram.build(
            context: shared.context, device: shared.device, info: shared.info,
            source: source + "\n", cacheDirectory: dir)
        #expect(!report4.fromDiskCache && report4.cacheFile != report1.cacheFile)
        for p in [first, second, third, fourth] { clReleaseProgramChecked(p) }
    }

    @Test func aKernelThatDoesNotCompileShowsTheBuildLogOnOneLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = "__kernel void broken(__global float* x) { x[0] = undefined_name; }"
        do {
            _ = try KernelProgram.build(
                context: shared.context, device: shared.device, info: shared.info,
                source: broken, cacheDirectory: dir)
            Issue.record("a broken kernel compiled")
        } catch let error as DeviceError {
            let text = "\(error)"
            #expect(text.hasPrefix("OpenCL kernel build failed on \(shared.info.name)"), "\(text)")
            #expect(text.contains("undefined_name"), "the compiler's message names the culprit: \(text)")
            #expect(!text.contains("\n"), "one line: \(text)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "nothing cached for a failed build")
    }

    @Test func aDeviceIndexOutOfRangeSaysHowManyThereAre() throws {
        let count = try OpenCLDevices.all().count
        #expect(throws: DeviceError.self) { try BackendChoice.opencl.makeBackend(device: count) }
        do {
            _ = try BackendChoice.opencl.makeBackend(device: count)
        } catch {
            #expect("\(error)".contains("no OpenCL device \(count)") && "\(error)".contains("facemine devices"), "\(error)")
        }
    }

    @Test func autoPrefersAGPUAndOtherwiseSaysWhyTheCPURuns() throws {
        let (backend, reason) = try BackendChoice.auto.makeBackend(threads: 1)
        if try OpenCLDevices.all().contains(where: { $0.kind == .gpu }) {
            #expect(backend.kind == .opencl, "\(reason)")
        } else {
            #expect(backend.kind == .cpu && reason.contains("no OpenCL GPU"), "\(reason)")
        }
    }
}

import COpenCL
private func clReleaseProgramChecked(_ program: cl_program) {
    #expect(clReleaseProgram(program) == CL_SUCCESS)
}
