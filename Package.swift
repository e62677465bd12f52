// swift-tools-version:6.0
import PackageDescription

/// swift-sentencevae: SentenceVAE and sentence-level LLMs in Swift.
///
/// No `unsafeFlags` anywhere, so the package stays usable as a dependency; see the README for the
/// optional `-target-cpu native` build flag.
let package = Package(
    name: "swift-sentencevae",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sentencevae", targets: ["sentencevae"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "SentenceModels", targets: ["SentenceModels"]),
        .library(name: "ModelIO", targets: ["ModelIO"]),
        .library(name: "Tokenization", targets: ["Tokenization"]),
        .library(name: "Training", targets: ["Training"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        // `sentencevae data serve` only; the Training library speaks the protocol through URLSession.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // OpenBLAS's cblas.h; pkg-config finds the Debian multiarch include path.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "pkg-config"]), .brew(["openblas", "pkg-config"])]
        ),
        // BLAS: OpenBLAS through CBLAS on Linux; Apple's Accelerate on macOS (its natural BLAS, far
        // faster on Apple silicon than Homebrew's OpenBLAS; same cblas_* calls, see BLAS.swift).
        // x86 AVX2+FMA kernels in C (intrinsics, enabled per function; chosen at run time).
        .target(name: "CPUKernels"),
        .target(name: "TensorCore",
                dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux])), "CPUKernels"],
                linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]),
        .target(name: "NeuralNet", dependencies: ["TensorCore"]),
        .target(name: "SentenceModels", dependencies: ["NeuralNet", "TensorCore", "ModelIO"]),
        // Checkpoints and configs: safetensors, PyTorch zip/pickle, HF directories, YAML.
        // Depends on no tensor engine: it hands out raw `TensorData` (CPUKernels only for huge-page advice).
        .target(name: "ModelIO", dependencies: [.product(name: "Yams", package: "Yams"), "CPUKernels"]),
        // GPT-2 byte-level BPE (HF formats) and the sentence splitter; no tensor dependency.
        .target(name: "Tokenization"),
        // Trainers, data pipeline, checkpoints, evaluation: the original's tools/train and tools/eval.
        .target(name: "Training", dependencies: ["SentenceModels", "NeuralNet", "TensorCore", "ModelIO", "Tokenization"]),
        .executableTarget(
            name: "sentencevae",
            dependencies: [
                "TensorCore",
                "ModelIO",
                "Tokenization",
                "NeuralNet",
                "SentenceModels",
                "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            // The built-in workload of `bench generate` (Tools/reference/make_bench_passages.py).
            resources: [.copy("Resources/bench-passages.json")]
        ),
        // Assertions shared by the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // Counts the process's heap allocations (glibc only) for the tests that decoding allocates nothing.
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SentenceModelsTests", dependencies: ["SentenceModels", "TestSupport", "AllocationCounter"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelIOTests", dependencies: ["ModelIO"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"], resources: [.copy("Fixtures")]),
        // The command line end to end, through the built `sentencevae` binary.
        .testTarget(name: "SentenceVAECLITests", dependencies: ["TestSupport", "SentenceModels", "Tokenization", "ModelIO", "TensorCore"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
