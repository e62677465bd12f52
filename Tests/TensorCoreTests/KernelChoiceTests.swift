import XCTest
@testable import TensorCore

/// `KernelChoice`: the kernels `bench opt --all-kernels` times against each other. (That each one
/// computes the right products: `WeightMatrixTests.testProductsAgreeWithFP32OnDequantisedWeights`
/// runs every choice.)
final class KernelChoiceTests: XCTestCase {
    func testEachFormatListsDistinctKernelsTheDefaultAmongThem() {
        let saved = KernelChoice.current
        defer { saved.apply() }
        for format in WeightFormat.allCases {
            let choices = KernelChoice.available(for: format)
            XCTAssertEqual(Set(choices.map(\.name)).count, choices.count, "\(format): \(choices.map(\.name))")
            XCTAssertEqual(choices.last?.name, "portable")
            XCTAssertFalse(choices.last!.enabled)
            // No two choices run the same kernel for this format, and the one in use is one of them.
            for (i, a) in choices.enumerated() {
                for b in choices[(i + 1)...] { XCTAssertFalse(a.sameKernel(as: b, for: format), "\(format): \(a.name) and \(b.name)") }
            }
            XCTAssertEqual(choices.filter { $0.sameKernel(as: saved, for: format) }.count, 1, "\(format): the default kernel")
            if NativeKernels.supported { XCTAssertTrue(choices.contains { $0.name == "avx2" }) }
            XCTAssertEqual(choices.contains { $0.name == "vnni" }, format == .q8 && NativeKernels.q8VNNISupported)
            XCTAssertEqual(choices.contains { $0.name == "avx512-row" }, format == .bf16 && NativeKernels.avx512Supported)
        }
    }

    func testApplySetsTheSwitchesAndCurrentReadsThemBack() {
        let saved = KernelChoice.current
        defer { saved.apply() }
        for format in WeightFormat.allCases {
            for choice in KernelChoice.available(for: format) {
                choice.apply()
                let now = KernelChoice.current
                XCTAssertEqual([now.enabled, now.avx512, now.oneRowBF16AVX512, now.q8VNNI],
                               [choice.enabled, choice.avx512, choice.oneRowBF16AVX512, choice.q8VNNI], "\(format) \(choice.name)")
                XCTAssertTrue(now.sameKernel(as: choice, for: format))
            }
        }
        saved.apply()
        XCTAssertEqual(KernelChoice.current, saved)
    }

    func testRowKernelLooksOnlyAtTheSwitchesThatFormatUses() {
        func choice(enabled: Bool = true, avx512: Bool = false, oneRow: Bool = false, vnni: Bool = false) -> KernelChoice {
            KernelChoice(name: "x", enabled: enabled, avx512: avx512, oneRowBF16AVX512: oneRow, q8VNNI: vnni)
        }
        // The kernel each format's products dispatch to.
        XCTAssertEqual(choice(avx512: true, oneRow: true, vnni: true).rowKernel(for: .f32), .avx512)
        XCTAssertEqual(choice(avx512: true, oneRow: true).rowKernel(for: .bf16), .avx512)
        XCTAssertEqual(choice(oneRow: true).rowKernel(for: .bf16), .avx512OneRow)
        XCTAssertEqual(choice(avx512: true, vnni: true).rowKernel(for: .q8), .integer)
        XCTAssertEqual(choice(avx512: true).rowKernel(for: .q8), .avx512)
        XCTAssertEqual(choice(oneRow: true).rowKernel(for: .q8), .avx2)
        XCTAssertEqual(choice(enabled: false, avx512: true, vnni: true).rowKernel(for: .q8), .portable)
        // fp32 reads only avx512; bf16's four streams win over its one row; q8's integer kernel over avx512.
        XCTAssertTrue(choice(oneRow: true, vnni: true).sameKernel(as: choice(), for: .f32))
        XCTAssertFalse(choice(avx512: true).sameKernel(as: choice(), for: .f32))
        XCTAssertTrue(choice(avx512: true, oneRow: true).sameKernel(as: choice(avx512: true), for: .bf16))
        XCTAssertFalse(choice(oneRow: true).sameKernel(as: choice(), for: .bf16))
        XCTAssertTrue(choice(avx512: true, vnni: true).sameKernel(as: choice(vnni: true), for: .q8))
        XCTAssertFalse(choice(avx512: true).sameKernel(as: choice(), for: .q8))
        // Portable is portable, whatever else is set; and never the same as a native kernel.
        XCTAssertTrue(choice(enabled: false, avx512: true).sameKernel(as: choice(enabled: false), for: .q8))
        XCTAssertFalse(choice(enabled: false).sameKernel(as: choice(), for: .bf16))
    }
}
