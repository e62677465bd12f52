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
        .library(name: "Tokenization", targets: ["Tokenization"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS's cblas.h; pkg-config finds the Debian multiarch include path.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "pkg-config"]), .brew(["openblas", "pkg-config"])]
        ),
        .target(name: "TensorCore", dependencies: ["CBLAS"]),
        // GPT-2 byte-level BPE (HF formats) and the sentence splitter; no tensor dependency.
        .target(name: "Tokenization"),
        .testTarget(
            name: "TokenizationTests",
            dependencies: ["Tokenization"],
            resources: [.copy("Fixtures")]
        ),
        .executableTarget(
            name: "sentencevae",
            dependencies: [
                "TensorCore",
                "Tokenization",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ],
    swiftLanguageModes: [.v5]
)
