@testable import FacemineOpenCL
import Foundation
import Testing

/// The Swift declaration of every kernel (`Kernel`) against its signature in Kernels/*.cl: the
/// same kernels, the same parameters in the same order, so a change on one side only fails here.
@Suite struct KernelSignatureTests {
    /// `__kernel void name(...)` of every .cl file, parameters read as the declaration's kinds.
    static func sourceSignatures() throws -> [KernelSignature] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Kernels")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".cl") }.sorted()
        let kernel = try NSRegularExpression(pattern: #"__kernel\s+void\s+(\w+)\s*\(([^)]*)\)"#)
        var found: [KernelSignature] = []
        for file in files {
            let source = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in kernel.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                let name = String(source[Range(match.range(at: 1), in: source)!])
                let parameters = try source[Range(match.range(at: 2), in: source)!].split(separator: ",").map { raw in
                    let words = raw.split(whereSeparator: { " \n\t*".contains($0) }).map(String.init)
                    if words.contains("__global") { return words.contains("int") ? KernelSignature.Parameter.ints : .floats }
                    if words.contains("uint") { return .uint }
                    if words.contains("int") { return .int }
                    if words.contains("float") { return .float }
                    throw KernelSourceError(
                        description: "\(file): \(name) has a parameter of a kind facemine does not pass: \(raw)")
                }
                found.append(KernelSignature(name, parameters))
            }
        }
        return found
    }

    struct KernelSourceError: Error, CustomStringConvertible { let description: String }

    @Test func everyKernelIsDeclaredWithItsSourceSignature() throws {
        let source = try Self.sourceSignatures()
        #expect(source.count >= 30, "the .cl files were read")
        #expect(Set(source.map(\.name)) == Set(Kernel.all.map(\.name)), "the same kernels on both sides")
        for declared in Kernel.all {
            let written = source.first { $0.name == declared.name }
            #expect(
                written == declared,
                "\(declared.name): Swift says \(declared.parameters), the .cl source \(written?.parameters ?? [])")
        }
        #expect(Set(Kernel.all.map(\.name)).count == Kernel.all.count, "each kernel declared once")
    }

    @Test func argumentsFitOnlyTheirKind() {
        #expect(OpenCLBackend.Argument.int(3).fits(.int) && !OpenCLBackend.Argument.int(3).fits(.uint))
        #expect(OpenCLBackend.Argument.float(1).fits(.float) && !OpenCLBackend.Argument.float(1).fits(.int))
        #expect(OpenCLBackend.Argument.uint(1).fits(.uint) && !OpenCLBackend.Argument.uint(1).fits(.floats))
    }
}
