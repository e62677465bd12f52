import Foundation
import ModelIO
import SentenceModels
import Tokenization

/// Loading what a command needs besides the model (which `ModelFactory` builds): the tokenizer,
/// `config.json`, a checkpoint's state dict, with errors turned into `CLIError`s.
enum ModelAssets {
    static func referenceConfig(_ dir: String) throws -> OPTConfig {
        do { return try ModelFactory.referenceConfig(dir) } catch { throw CLIError("\(error)") }
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
