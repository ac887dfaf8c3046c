import Foundation

/// A GPU's OpenCL driver can be installed without the ICD file that makes the OpenCL loader
/// see it: NVIDIA's container runtime mounts libnvidia-opencl.so but, unlike the driver
/// package, writes nothing to /etc/OpenCL/vendors (seen on an H200 machine, where only PoCL's
/// CPU device showed up). The GPU is then invisible to every OpenCL program, so facemine says
/// where the library is and how to register it instead of quietly training on the CPU.
public enum UnregisteredDriver {
    static let libraryPrefixes = ["libnvidia-opencl.so"]
    public static let searchFolders = [
        "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
    ]

    /// Where the loader reads ICD files: OCL_ICD_VENDORS (a folder or one .icd file), else the system's folder.
    public static var vendorsFolder: String {
        if let custom = ProcessInfo.processInfo.environment["OCL_ICD_VENDORS"] { return custom }
        return "/etc/OpenCL/vendors"
    }

    /// A GPU OpenCL library in `folders` that no ICD file in `vendors` (a folder, or one file) names, or nil.
    public static func find(in folders: [String] = searchFolders, vendors: String = vendorsFolder) -> String? {
        let files = FileManager.default
        let icdFiles =
            (try? files.contentsOfDirectory(atPath: vendors))
            .map { $0.filter { $0.hasSuffix(".icd") }.map { vendors + "/" + $0 } } ?? [vendors]
        let registered = icdFiles.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
        for folder in folders {
            let names = ((try? files.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            guard let library = names.first(where: { name in libraryPrefixes.contains { name.hasPrefix($0) } }) else { continue }
            let isRegistered = libraryPrefixes.contains { registered.contains($0) }
            return isRegistered ? nil : folder + "/" + library
        }
        return nil
    }

    /// The line to print when `find` returns a library.
    public static func hint(_ library: String) -> String {
        "\(library) (a GPU's OpenCL driver) is installed but no ICD file registers it, so OpenCL cannot see the GPU; "
            + "register it with: mkdir -p ~/icd && echo \(library) > ~/icd/gpu.icd && export OCL_ICD_VENDORS=~/icd"
    }
}
