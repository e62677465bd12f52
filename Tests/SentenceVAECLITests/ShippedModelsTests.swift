import Foundation
import SentenceModels
import XCTest

/// The default models shipped in the package's Models/ (skipped until they are there): they load,
/// fit the size limit, reconstruct a fixed clause exactly, and continue the demo's passage the same
/// way on every run.
final class ShippedModelsTests: XCTestCase {
    /// Models/ at the package root (this file is Tests/SentenceVAECLITests/…).
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/Models"
    }()

    func shipped() throws -> DefaultModels {
        guard FileManager.default.fileExists(atPath: Self.directory + "/svae.yaml") else {
            throw XCTSkip("no default models in \(Self.directory) yet (Tools/train-default-models makes them)")
        }
        return try DefaultModels(directory: Self.directory)
    }

    func testTheyLoadAndFitTheSizeLimit() throws {
        let family = try shipped()
        _ = try family.svae(); _ = try family.sllm(); _ = try family.opt()
        let files = FileManager.default.enumerator(atPath: family.directory)!.compactMap { $0 as? String }
        let bytes = try files.reduce(0) { total, file in
            let attributes = try FileManager.default.attributesOfItem(atPath: family.directory + "/" + file)
            return total + ((attributes[.type] as? FileAttributeType) == .typeRegular ? (attributes[.size] as? Int ?? 0) : 0)
        }
        XCTAssertLessThanOrEqual(bytes, 40_000_000, "everything shipped")
    }

    /// A clause the shipped SVAE reconstructs (it gets two thirds of held-out clauses exactly, see
    /// Models/README.md; "In the beginning God created the heavens and the earth." comes back
    /// jumbled): a regression check that loading, q8 products and greedy decoding still give it back whole.
    func testAFixedClauseReconstructsExactly() throws {
        _ = try shipped()
        let clause = "and the earth was without form,"
        let r = try CommandRunner.run(["svae", "--input", clause, "--json"], environment: ["SENTENCEVAE_MODELS": Self.directory])
        XCTAssertEqual(r.status, 0, r.err)
        let result = try XCTUnwrap((try CommandRunner.json(r.out)["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(result["output"] as? String, clause)
    }

    /// In fp32: the tests run the debug build, whose q8 kernels are ~100× slower than release
    /// (Fixtures/tiny-family covers the q8 demo).
    func testTheDemoContinuationIsDeterministic() throws {
        _ = try shipped()
        let runs = try (0..<2).map { _ -> Any? in
            let r = try CommandRunner.run(["demo", "--json", "--weights", "f32"], environment: ["SENTENCEVAE_MODELS": Self.directory])
            XCTAssertEqual(r.status, 0, r.err)
            return (try CommandRunner.json(r.out)["sllm"] as? [String: Any])?["sentences"]
        }
        XCTAssertEqual(runs[0] as? NSArray, runs[1] as? NSArray)
        XCTAssertFalse((runs[0] as? [Any] ?? []).isEmpty)
    }
}
