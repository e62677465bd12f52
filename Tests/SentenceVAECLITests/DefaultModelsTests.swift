import Foundation
import ModelIO
import SentenceModels
import TensorCore
import XCTest

/// Finding and loading the default model family (`DefaultModels`), on the tiny family in
/// Fixtures/tiny-family (made by `Tools/train-default-models --smoke --family tiny`).
final class DefaultModelsTests: XCTestCase {
    var directory = ""
    static var family: String { CommandRunner.fixture("tiny-family") }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "default-models-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A package tree: ROOT/Models (a copy of the family) and ROOT/.build/debug/sentencevae.
    func makePackage(models: Bool = true) throws -> (root: String, executable: String) {
        let root = directory + "/package"
        try FileManager.default.createDirectory(atPath: root + "/.build/debug", withIntermediateDirectories: true)
        let executable = root + "/.build/debug/sentencevae"
        FileManager.default.createFile(atPath: executable, contents: Data())
        if models { try FileManager.default.copyItem(atPath: Self.family, toPath: root + "/Models") }
        return (root, executable)
    }

    func testFoundByWalkingUpFromTheExecutable() throws {
        let (root, executable) = try makePackage()
        let found = try DefaultModels.locate(environment: [:], executable: executable)
        XCTAssertEqual(found.directory, URL(fileURLWithPath: root + "/Models").standardizedFileURL.path)
        // Through a symbolic link to the binary (an install elsewhere) too.
        let link = directory + "/bin-sentencevae"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: executable)
        XCTAssertEqual(try DefaultModels.locate(environment: [:], executable: link).directory, found.directory)
    }

    func testExplicitDirectoryThenEnvironmentThenSearch() throws {
        let (_, executable) = try makePackage(models: false)
        // Nothing above the executable: the error says what to do.
        XCTAssertThrowsError(try DefaultModels.locate(environment: [:], executable: executable)) { error in
            let text = "\(error)"
            for part in ["Tools/train-default-models", DefaultModels.environmentKey, "--checkpoint", "--model"] {
                XCTAssertTrue(text.contains(part), "\(part) in: \(text)")
            }
        }
        let environment = [DefaultModels.environmentKey: Self.family]
        XCTAssertEqual(try DefaultModels.locate(environment: environment, executable: executable).directory,
                       URL(fileURLWithPath: Self.family).standardizedFileURL.path)
        // An explicit directory wins over the environment.
        let copy = directory + "/copy"
        try FileManager.default.copyItem(atPath: Self.family, toPath: copy)
        XCTAssertEqual(try DefaultModels.locate(explicit: copy, environment: environment, executable: executable).directory,
                       URL(fileURLWithPath: copy).standardizedFileURL.path)
        // A wrong environment variable is an error naming it, not a silent fallback.
        XCTAssertThrowsError(try DefaultModels.locate(environment: [DefaultModels.environmentKey: directory + "/nowhere"], executable: executable)) {
            XCTAssertTrue("\($0)".contains(DefaultModels.environmentKey), "\($0)")
        }
    }

    func testForeignOrIncompleteModelsDirectories() throws {
        let (root, executable) = try makePackage(models: false)
        // A Models/ with none of the family's files is someone else's folder: skipped.
        try FileManager.default.createDirectory(atPath: root + "/.build/Models", withIntermediateDirectories: true)
        try "notes".write(toFile: root + "/.build/Models/README.md", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.family, toPath: root + "/Models")
        XCTAssertEqual(try DefaultModels.locate(environment: [:], executable: executable).directory,
                       URL(fileURLWithPath: root + "/Models").standardizedFileURL.path)
        // One with some of them is a broken family: the error lists what is missing.
        try FileManager.default.removeItem(atPath: root + "/Models/sllm.safetensors")
        XCTAssertThrowsError(try DefaultModels.locate(environment: [:], executable: executable)) {
            XCTAssertTrue("\($0)".contains("sllm.safetensors"), "\($0)")
        }
    }

    /// The three load in the format their files hold, and the SLLM's SVAE is the SVAE's file.
    func testFamilyLoadsInItsStoredFormat() throws {
        let family = try DefaultModels(directory: Self.family)
        XCTAssertEqual(DefaultModels.storedFormat(family.svaeCheckpoint), .q8)
        let svae = try family.svae(), sllm = try family.sllm().model, opt = try family.opt()
        for (name, weights) in [("svae", svae.weights), ("sllm", sllm.weights), ("opt", opt.weights)] {
            XCTAssertEqual(weights.format, .q8, name)
            XCTAssertEqual(weights.mappedCount, weights.storedCount, "\(name): read in place")
        }
        XCTAssertFalse(try loadStateDict(path: family.sllmCheckpoint).names.contains { $0.hasPrefix("svae.") })
        // The same token table.
        let table = tokenTable(sllm)
        XCTAssertEqual(table, tokenTable(svae))
        XCTAssertTrue(table.contains { $0 != 0 })
        XCTAssertTrue(sllm.notes.joined().contains("svae.model_path"), "\(sllm.notes)")
        // --weights f32 widens the same files.
        XCTAssertEqual(try family.opt(storage: .f32).weights.format, .f32)
    }

    /// The encoder's token table, compared as the weights inference widens (they may be compact).
    func tokenTable(_ svae: ModelFactory.SVAE) -> [Float] { widened(svae.weights.matrix(svae.model.encoder.embedding.embedToken.weight)) }
    func tokenTable(_ sllm: ModelFactory.SLLM) -> [Float] { widened(sllm.weights.matrix(sllm.model.svae.encoder.embedding.embedToken.weight)) }
    func widened(_ m: WeightMatrix) -> [Float] {
        var out = [Float](repeating: 0, count: m.rows * m.columns)
        out.withUnsafeMutableBufferPointer { p in for r in 0..<m.rows { m.row(r, into: p.baseAddress! + r * m.columns) } }
        return out
    }

    /// sllm.yaml's svae.model_path names the SLLM's SVAE inside the family, so a family whose SVAE
    /// was retrained after its SLLM keeps the one the SLLM was trained with beside it.
    func testSLLMReadsTheSVAEItsConfigNames() throws {
        let copy = directory + "/family"
        try FileManager.default.copyItem(atPath: Self.family, toPath: copy)
        try FileManager.default.moveItem(atPath: copy + "/svae.safetensors", toPath: copy + "/sllm-svae.safetensors")
        // The family's own SVAE becomes another one: the same stored in bf16, so other values.
        let r = try CommandRunner.run(["convert", copy + "/sllm-svae.safetensors", copy + "/svae.safetensors", "--weights", "bf16"])
        XCTAssertEqual(r.status, 0, r.err)
        let yaml = copy + "/sllm.yaml"
        let text = try String(contentsOfFile: yaml, encoding: .utf8)
        XCTAssertTrue(text.contains("model_path: \"svae.safetensors\""))
        try text.replacingOccurrences(of: "model_path: \"svae.safetensors\"", with: "model_path: \"sllm-svae.safetensors\"")
            .write(toFile: yaml, atomically: true, encoding: .utf8)

        let family = try DefaultModels(directory: copy)
        XCTAssertEqual(try family.sllmSVAECheckpoint(), family.directory + "/sllm-svae.safetensors")
        let table = tokenTable(try family.sllm().model)
        XCTAssertEqual(table, tokenTable(try DefaultModels(directory: Self.family).svae()), "the SVAE the SLLM was trained with")
        XCTAssertNotEqual(table, tokenTable(try family.svae()), "not the family's retrained one")
        // A name that is not in the family is an incomplete family, said so at once.
        try FileManager.default.removeItem(atPath: copy + "/sllm-svae.safetensors")
        XCTAssertThrowsError(try DefaultModels(directory: copy)) {
            XCTAssertTrue("\($0)".contains("sllm-svae.safetensors") && "\($0)".contains("svae.model_path"), "\($0)")
        }
    }

    /// An SLLM file without its SVAE loads only when the config froze the SVAE and names its file.
    func testSLLMWithoutItsSVAENeedsAFrozenSVAEPath() throws {
        let family = try DefaultModels(directory: Self.family)
        for (key, value) in [("finetune_svae", ConfigValue.bool(true)), ("svae", .map([("model_path", .null)]))] {
            let cfg = try SLLMConfig(ConfigValue.merged(try family.sllmConfig(), .map([(key, value)])), file: family.sllmConfigFile)
            XCTAssertThrowsError(try ModelFactory.sllm(cfg, configFile: family.sllmConfigFile, weights: .checkpoint(family.sllmCheckpoint))) {
                XCTAssertTrue("\($0)".contains("no svae.* tensors") && "\($0)".contains("finetune_svae"), "\($0)")
            }
        }
    }
}
