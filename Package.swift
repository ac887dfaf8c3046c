// swift-tools-version:6.0
// facemine: facial-emotion classifiers on OpenCL GPUs and a multithreaded CPU backend.
//
// The folder tree shows the layers of ../shared/DESIGN.md §1:
//   Sources/System    C libraries as pkg-config system-library targets
//   Sources/Device    the device abstraction (Backend protocol, tensors, op contract)
//   Sources/Backends  one folder per backend, plus the one place that picks a backend
//   Sources/CLI       the `facemine` executable
//   Sources/Tools     release-mode tools (op benchmark)
import PackageDescription

/// Compute kernels, data pipeline, layers and the training loop are compiled optimised even in
/// debug builds: the test suite trains real models, and -Onone Swift loops are 20-50x slower.
/// `haswell` (AVX2 + FMA) is the baseline of every x86-64 machine we expect to run on.
var kernelFlags: [SwiftSetting] = [.unsafeFlags(["-O"])]
#if arch(x86_64)
    kernelFlags.append(.unsafeFlags(["-target-cpu", "haswell"]))
#endif

/// A target of the CPU backend's C kernels: Sources/System/NAME, built on CKernelSupport, -O3
/// even in debug builds (the test suite trains real models).
func cpuKernels(_ name: String) -> Target {
    .target(
        name: name, dependencies: ["CKernelSupport"], path: "Sources/System/\(name)", cSettings: [.unsafeFlags(["-O3"])])
}

let package = Package(
    name: "facemine",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "facemine", targets: ["FacemineCLI"]),
        .executable(name: "facemine-opbench", targets: ["OpBench"]),
        .executable(name: "facemine-csvbench", targets: ["CSVBench"]),
        .executable(name: "facemine-parity", targets: ["Parity"]),
        .executable(name: "facemine-fuzz", targets: ["Fuzz"]),
        /// Video files for `facemine predict`, loaded only when a video is given (Sources/System/CVideo).
        .library(name: "FacemineVideo", type: .dynamic, targets: ["CVideo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // TensorBoard's event records and ONNX models (generated code committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: system libraries
        .systemLibrary(
            name: "CBLAS", path: "Sources/System/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "COpenCL", path: "Sources/System/COpenCL", pkgConfig: "OpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]),
        .systemLibrary(
            name: "CPNG", path: "Sources/System/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CJPEG", path: "Sources/System/CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"])]),
        /// libjpeg reports errors by longjmp, which Swift cannot catch: a few lines of C turn
        /// both codecs into functions that return an error message instead.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"], path: "Sources/System/CImageCodecs"),
        /// OpenCV is C++: a small shim gives Swift a C API for what facemine uses of it (cascade
        /// face and eye detection, face crops, boxes drawn on photos), from Debian's
        /// `libopencv-dev` (cascades from `opencv-data`). Not through pkg-config: its `opencv4`
        /// links all 55 OpenCV modules, and through them VTK, MPI, GDAL and FFmpeg, so that every
        /// start of facemine loaded some 380 libraries (0.3-0.4 s); the shim names the three it
        /// calls (about 30 libraries with their own dependencies).
        .target(
            name: "CVision", path: "Sources/System/CVision",
            cxxSettings: [.unsafeFlags(["-O2", "-I/usr/include/opencv4", "-I/usr/local/include/opencv4"])],
            linkerSettings: ["opencv_core", "opencv_imgproc", "opencv_objdetect"]
                .map { .linkedLibrary($0) }),
        /// Video I/O, built as libFacemineVideo.so beside the binary and opened at run time (see Video.h).
        .target(
            name: "CVideo", path: "Sources/System/CVideo",
            cxxSettings: [.unsafeFlags(["-O2", "-I/usr/include/opencv4", "-I/usr/local/include/opencv4"])],
            linkerSettings: ["opencv_core", "opencv_imgproc", "opencv_videoio"].map { .linkedLibrary($0) }),
        .systemLibrary(
            name: "CCLBlast", path: "Sources/System/CCLBlast", pkgConfig: "clblast",
            providers: [.apt(["libclblast-dev"])]),

        // MARK: the one seeded random generator (data pipeline, tests, benchmarks)
        .target(name: "FacemineRandom", path: "Sources/Random", swiftSettings: kernelFlags),

        // MARK: device abstraction
        .target(name: "FacemineDevice", path: "Sources/Device", swiftSettings: kernelFlags),

        // MARK: data (no backend: it feeds whichever one trains)
        .target(
            name: "FacemineData", dependencies: ["CImageCodecs", "FacemineRandom"], path: "Sources/Data",
            swiftSettings: kernelFlags),

        // MARK: models (on the device abstraction only)
        .target(name: "FacemineNN", dependencies: ["FacemineDevice"], path: "Sources/NN", swiftSettings: kernelFlags),

        // MARK: training (models + data, on whichever backend the CLI picked)
        .target(
            name: "FacemineTraining",
            dependencies: [
                "FacemineNN", "FacemineData", "FacemineDevice", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/Training", exclude: ["TensorBoard/event.proto"],
            swiftSettings: kernelFlags),

        // MARK: export (a trained model for other runtimes; no backend: it reads the model's tensors)
        .target(
            name: "FacemineExport",
            dependencies: [
                "FacemineNN", "FacemineData", "FacemineDevice", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/Export", exclude: ["ONNX/onnx-subset.proto"]),

        // MARK: faces in photos and videos (OpenCV; no backend: classification stays with the caller)
        .target(name: "FacemineVision", dependencies: ["CVision", "FacemineData"], path: "Sources/Vision"),

        // MARK: backends
        .target(
            name: "FacemineCPU",
            dependencies: [
                "FacemineDevice", "CBLAS", "CPeak", "CKernelSupport", "CDirectConv", "CFirstLayerConv", "CStemConv",
                "CWideGEMM", "CPointwise", "CWorkerPool",
            ],
            path: "Sources/Backends/CPU", swiftSettings: kernelFlags),
        .target(
            name: "FacemineOpenCL", dependencies: ["FacemineDevice", "COpenCL", "CCLBlast"],
            path: "Sources/Backends/OpenCL", plugins: ["EmbedKernels"]),
        /// Kernels/*.cl become string constants inside FacemineOpenCL (no run-time file lookup).
        .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["KernelEmbedder"]),
        .executableTarget(name: "KernelEmbedder", path: "Sources/Tools/KernelEmbedder"),
        .target(
            name: "FacemineBackends", dependencies: ["FacemineDevice", "FacemineCPU", "FacemineOpenCL", "CPeak"],
            path: "Sources/Backends/Selection"),

        // MARK: cross-validation, search and their reports (on the trainer, any backend)
        .target(
            name: "FacemineExperiments",
            dependencies: ["FacemineTraining", "FacemineData", "FacemineNN", "FacemineDevice", "FacemineRandom"],
            path: "Sources/Experiments"),

        // MARK: benchmarking (any backend, through the abstraction)
        .target(
            name: "FacemineBench", dependencies: ["FacemineDevice", "FacemineNN", "FacemineBackends", "FacemineRandom"],
            path: "Sources/Bench"),
        /// A measured FP32 peak (independent FMAs on the widest vectors), the denominator of "% of peak".
        .target(name: "CPeak", path: "Sources/System/CPeak", cSettings: [.unsafeFlags(["-O2"])]),
        /// The CPU backend's own C kernels, one target for each kind of layer they serve, each
        /// compiled for AVX-512 and for the baseline on top of CKernelSupport (their shared vector
        /// type and the switch that picks the copy at run time):
        ///   CDirectConv      direct 3x3 convolutions and 1x1 stride-2 shortcuts (the `direct` algorithm)
        ///   CFirstLayerConv  one-channel 3x3 first layers (MyCNN, the small and medium stems)
        ///   CStemConv        the imagenet stem's 7x7 stride-2 convolution
        ///   CWideGEMM        products with few rows and many columns (im2col and 1x1 layers)
        ///   CPointwise       the 1x1 strided layers' upsampling copy
        .target(name: "CKernelSupport", path: "Sources/System/CKernelSupport", cSettings: [.unsafeFlags(["-O3"])]),
        cpuKernels("CDirectConv"), cpuKernels("CFirstLayerConv"), cpuKernels("CStemConv"), cpuKernels("CWideGEMM"),
        cpuKernels("CPointwise"),
        /// Threads that stay awake between the CPU backend's parallel loops.
        .target(name: "CWorkerPool", path: "Sources/System/CWorkerPool", cSettings: [.unsafeFlags(["-O2"])]),

        // MARK: executables
        .executableTarget(
            name: "FacemineCLI",
            dependencies: [
                "FacemineDevice", "FacemineBackends", "FacemineData", "FacemineNN", "FacemineTraining", "FacemineBench",
                "FacemineExperiments", "FacemineExport", "FacemineVision",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/CLI"),
        .executableTarget(
            name: "OpBench",
            dependencies: [
                "FacemineDevice", "FacemineCPU", "FacemineNN", "FacemineBench", "FacemineRandom", "CBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Tools/OpBench"),

        .executableTarget(
            name: "CSVBench",
            dependencies: ["FacemineData", "FacemineRandom", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/CSVBench"),

        .executableTarget(
            name: "Parity",
            dependencies: [
                "FacemineBackends", "FacemineData", "FacemineDevice", "FacemineNN", "FacemineTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Tools/Parity"),

        .target(
            name: "FacemineFuzzSupport", dependencies: ["FacemineData", "FacemineTraining", "FacemineRandom"],
            path: "Sources/Tools/FuzzSupport"),
        .executableTarget(
            name: "Fuzz",
            dependencies: ["FacemineFuzzSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/Fuzz"),

        // MARK: tests
        .testTarget(
            name: "ConformanceTests", dependencies: ["FacemineDevice", "FacemineBackends", "FacemineRandom"],
            path: "Tests/ConformanceTests"),
        .testTarget(
            name: "CPUBackendTests", dependencies: ["FacemineDevice", "FacemineCPU", "FacemineRandom"],
            path: "Tests/CPUBackendTests"),
        .testTarget(
            name: "NNTests", dependencies: ["FacemineNN", "FacemineDevice", "FacemineBackends"], path: "Tests/NNTests"),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["FacemineTraining", "FacemineNN", "FacemineData", "FacemineDevice", "FacemineBackends"],
            path: "Tests/TrainingTests"),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "FacemineTraining", "FacemineNN", "FacemineData", "FacemineDevice", "FacemineBackends", "FacemineCLI",
                "FacemineFuzzSupport",
            ],
            path: "Tests/ReliabilityTests"),
        .testTarget(
            name: "ExperimentTests",
            dependencies: [
                "FacemineExperiments", "FacemineTraining", "FacemineNN", "FacemineData", "FacemineBackends", "FacemineCLI",
            ],
            path: "Tests/ExperimentTests"),
        .testTarget(
            name: "ExportTests",
            dependencies: [
                "FacemineExport", "FacemineNN", "FacemineData", "FacemineDevice", "FacemineBackends", "FacemineCLI",
                "FacemineRandom",
            ],
            path: "Tests/ExportTests"),
        .testTarget(
            name: "VisionTests", dependencies: ["FacemineVision", "FacemineData", "FacemineCLI"], path: "Tests/VisionTests"),
        .testTarget(
            name: "BenchTests", dependencies: ["FacemineBench", "FacemineBackends"], path: "Tests/BenchTests"),
        .testTarget(
            name: "DataTests", dependencies: ["FacemineData", "FacemineRandom"], path: "Tests/DataTests"),
        .testTarget(
            name: "OpenCLTests",
            dependencies: [
                "FacemineOpenCL", "FacemineBackends", "FacemineDevice", "FacemineNN", "FacemineTraining", "FacemineData",
                "FacemineRandom", "COpenCL",
            ],
            path: "Tests/OpenCLTests"),
        .testTarget(
            name: "SystemLibraryTests", dependencies: ["COpenCL", "CCLBlast", "CBLAS"],
            path: "Tests/SystemLibraryTests"),
    ],
    // Kernels are written against unsafe pointers and Dispatch; Swift 5 mode keeps strict
    // concurrency checking from turning every pointer capture into a diagnostic.
    swiftLanguageModes: [.v5]
)
