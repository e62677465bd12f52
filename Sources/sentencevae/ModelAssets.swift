import Foundation
import ModelIO
import SentenceModels
import Tokenization

/// Finding and loading what a command needs: the reference model directory an original-style YAML
/// names, its tokenizer and `config.json`, and a checkpoint's state dict.
enum ModelAssets {
    /// `ref_model_dir` as the original uses it (relative to the working directory); when that does
    /// not exist, relative to the config file's directory (so a config and its model can travel together).
    static func resolve(_ dir: String, configFile: String) throws -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue { return dir }
        let beside = URL(fileURLWithPath: configFile).deletingLastPathComponent().appendingPathComponent(dir).path
        if FileManager.default.fileExists(atPath: beside, isDirectory: &isDirectory), isDirectory.boolValue { return beside }
        throw CLIError("ref_model_dir '\(dir)' (from \(configFile)) is not a directory, neither relative to the working directory nor to the config file; point it at an HF OPT directory with config.json and the tokenizer files")
    }

    static func referenceConfig(_ dir: String) throws -> OPTConfig {
        do { return try OPTConfig(contentsOf: dir + "/config.json") } catch { throw CLIError("\(error)") }
    }

    static func tokenizer(_ dir: String) throws -> Tokenizer {
        do { return try Tokenizer.load(directory: dir) } catch { throw CLIError("\(error)") }
    }

    static func stateDict(_ path: String) throws -> StateDict {
        do { return try loadStateDict(path: path) } catch { throw CLIError("\(error)") }
    }

    /// Prints the config's warnings (unknown keys) to standard error.
    static func report(warnings: [String]) {
        for w in warnings { warn("warning: \(w)") }
    }
}

/// Streams decoded text as tokens arrive: decodes the whole sequence so far and prints the new
/// part, holding back a trailing U+FFFD (a multi-byte character split across tokens).
struct TextStream {
    let tokenizer: Tokenizer
    private(set) var ids: [Int] = []
    private var printed = ""

    init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    mutating func append(_ id: Int) -> String {
        ids.append(id)
        let text = tokenizer.decode(ids, skipSpecialTokens: true)
        guard !text.hasSuffix("\u{FFFD}"), text.hasPrefix(printed) else { return "" }
        let new = String(text.dropFirst(printed.count))
        printed = text
        return new
    }
}
