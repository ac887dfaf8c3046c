import Foundation
import PackagePlugin

/// Turns the package's `Kernels/*.cl` into one generated Swift source of string constants, so the
/// OpenCL backend carries its kernels inside the binary: a release build copied to another
/// machine needs no files beside it, and editing a `.cl` file rebuilds the target.
@main
struct EmbedKernels: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let kernels = context.package.directoryURL.appendingPathComponent("Kernels")
        let sources = try FileManager.default.contentsOfDirectory(at: kernels, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "cl" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedKernels.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(sources.count) OpenCL kernel files",
                executable: try context.tool(named: "KernelEmbedder").url,
                arguments: [output.path] + sources.map(\.path),
                inputFiles: sources,
                outputFiles: [output])
        ]
    }
}
