import Foundation

/// Writes a trained BPE as a Hugging Face tokenizer directory that `Tokenizer.load`,
/// `tokenizers.Tokenizer.from_file` and `transformers.AutoTokenizer` all read:
///
/// - `vocab.json` and `merges.txt` byte for byte as `tokenizers`' `save_model` writes them
///   (compact JSON in id order; `#version: 0.2` then one `left right` line per merge), so the
///   files of the two trainers can be compared with `cmp`;
/// - `tokenizer.json`: the same model with the ByteLevel pre-tokenizer and decoder and a
///   post-processor that puts the BOS token in front of every text (what `transformers` builds for
///   OPT's `add_bos_token: true`);
/// - `special_tokens_map.json` and `tokenizer_config.json` with OPT's settings.
///
/// The directory is written to a temporary sibling and renamed into place, so a crash never leaves
/// a half-written tokenizer where a model would load it.
public struct TokenizerDirectoryWriter {
    /// Which special token plays which part. `.opt`: OPT's `</s>` as BOS and EOS, `<pad>` for
    /// padding, and `<unk>` as the unknown token (OPT's own folder names `</s>`, but a byte-level
    /// BPE never produces an unknown token, and the vocabulary has a `<unk>` at id 3).
    public struct Roles: Sendable {
        public var bos: String
        public var eos: String
        public var unk: String
        public var pad: String
        /// Put `bos` in front of every text (OPT's `add_bos_token`).
        public var prependBOS: Bool

        public init(bos: String, eos: String, unk: String, pad: String, prependBOS: Bool) {
            self.bos = bos; self.eos = eos; self.unk = unk; self.pad = pad; self.prependBOS = prependBOS
        }

        public static let opt = Roles(bos: "</s>", eos: "</s>", unk: "<unk>", pad: "<pad>", prependBOS: true)
    }

    public enum WriteError: Error, Equatable, CustomStringConvertible {
        case notEmpty(String)
        case notADirectory(String)
        case missingSpecialToken(String)
        case io(String, String)

        public var description: String {
            switch self {
            case .notEmpty(let p): return "\(p) exists and is not empty; choose another --out, or pass --force to replace it"
            case .notADirectory(let p): return "\(p) exists and is not a directory"
            case .missingSpecialToken(let t): return "the special token \(t) is not in the vocabulary"
            case .io(let p, let why): return "\(p): \(why)"
            }
        }
    }

    public var roles: Roles

    public init(roles: Roles = .opt) { self.roles = roles }

    // MARK: Destination

    /// Throws unless `path` can be written: absent, an empty directory, or (with `overwrite`) any
    /// directory. Call before training so a mistake costs nothing.
    public static func checkDestination(_ path: String, overwrite: Bool) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
        guard isDir.boolValue else { throw WriteError.notADirectory(path) }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        if !contents.isEmpty && !overwrite { throw WriteError.notEmpty(path) }
    }

    /// Writes the five files into `path`, replacing an empty directory (or, with `overwrite`, any
    /// directory) only once everything is written.
    public func write(_ bpe: TrainedBPE, to path: String, overwrite: Bool = false) throws {
        try Self.checkDestination(path, overwrite: overwrite)
        for t in [roles.bos, roles.eos, roles.unk, roles.pad] where !bpe.tokens.contains(t) {
            throw WriteError.missingSpecialToken(t)
        }
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path).standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let pid = ProcessInfo.processInfo.processIdentifier
        let temporary = parent.appendingPathComponent(".\(target.lastPathComponent).partial-\(pid)")
        let retired = parent.appendingPathComponent(".\(target.lastPathComponent).old-\(pid)")
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try? fm.removeItem(at: temporary)
            try fm.createDirectory(at: temporary, withIntermediateDirectories: false)
            for (name, text) in files(bpe) {
                try Data(text.utf8).write(to: temporary.appendingPathComponent(name))
            }
            if fm.fileExists(atPath: target.path) {
                try? fm.removeItem(at: retired)
                try fm.moveItem(at: target, to: retired)
            }
            try fm.moveItem(at: temporary, to: target)
            try? fm.removeItem(at: retired)
        } catch {
            try? fm.removeItem(at: temporary)
            throw WriteError.io(path, (error as NSError).localizedDescription)
        }
    }

    /// File name → contents.
    public func files(_ bpe: TrainedBPE) -> [(String, String)] {
        [("vocab.json", vocabJSON(bpe)),
         ("merges.txt", mergesText(bpe)),
         ("tokenizer.json", tokenizerJSON(bpe)),
         ("special_tokens_map.json", specialTokensMapJSON()),
         ("tokenizer_config.json", tokenizerConfigJSON())]
    }

    // MARK: Files

    /// `{"<s>":0,"<pad>":1,…}` in id order, as `tokenizers` writes it.
    public func vocabJSON(_ bpe: TrainedBPE) -> String {
        var out = "{"
        for (id, token) in bpe.tokens.enumerated() {
            if id > 0 { out += "," }
            out += Self.quote(token) + ":" + String(id)
        }
        return out + "}"
    }

    public func mergesText(_ bpe: TrainedBPE) -> String {
        var out = "#version: 0.2\n"
        for (a, b) in bpe.merges { out += a + " " + b + "\n" }
        return out
    }

    public func tokenizerJSON(_ bpe: TrainedBPE) -> String {
        let specials = bpe.specialTokens.enumerated().compactMap { _, s -> (Int, String)? in
            bpe.tokens.firstIndex(of: s).map { ($0, s) }
        }
        let added = specials.map { id, s in
            #"    {"id": \#(id), "content": \#(Self.quote(s)), "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}"#
        }.joined(separator: ",\n")
        let byteLevel = #""add_prefix_space": false, "trim_offsets": true, "use_regex": true"#
        let postProcessor: String
        if roles.prependBOS, let bosId = bpe.tokens.firstIndex(of: roles.bos) {
            let bos = Self.quote(roles.bos)
            postProcessor = """
                {
                    "type": "TemplateProcessing",
                    "single": [{"SpecialToken": {"id": \(bos), "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                    "pair": [{"SpecialToken": {"id": \(bos), "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                    "special_tokens": {\(bos): {"id": \(bos), "ids": [\(bosId)], "tokens": [\(bos)]}}
                  }
                """
        } else {
            postProcessor = #"{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}"#
        }
        var vocab = ""
        for (id, token) in bpe.tokens.enumerated() {
            vocab += (id == 0 ? "" : ",\n") + "      " + Self.quote(token) + ": " + String(id)
        }
        var merges = ""
        for (i, (a, b)) in bpe.merges.enumerated() {
            merges += (i == 0 ? "" : ",\n") + "      " + Self.quote(a + " " + b)
        }
        return """
            {
              "version": "1.0",
              "truncation": null,
              "padding": null,
              "added_tokens": [
            \(added)
              ],
              "normalizer": null,
              "pre_tokenizer": {"type": "ByteLevel", \(byteLevel)},
              "post_processor": \(postProcessor),
              "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
              "model": {
                "type": "BPE",
                "dropout": null,
                "unk_token": null,
                "continuing_subword_prefix": null,
                "end_of_word_suffix": null,
                "fuse_unk": false,
                "byte_fallback": false,
                "ignore_merges": false,
                "vocab": {
            \(vocab)
                },
                "merges": [
            \(merges)
                ]
              }
            }

            """
    }

    public func specialTokensMapJSON() -> String {
        let entries = [("bos_token", roles.bos), ("eos_token", roles.eos), ("unk_token", roles.unk), ("pad_token", roles.pad)]
        return "{\n" + entries.map { key, token in
            #"  "\#(key)": {"content": \#(Self.quote(token)), "single_word": false, "lstrip": false, "rstrip": false, "normalized": true}"#
        }.joined(separator: ",\n") + "\n}\n"
    }

    public func tokenizerConfigJSON() -> String {
        let entries = [("bos_token", roles.bos), ("eos_token", roles.eos), ("unk_token", roles.unk), ("pad_token", roles.pad)]
        let tokens = entries.map { key, token in
            #"  "\#(key)": {"content": \#(Self.quote(token)), "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "__type": "AddedToken"},"#
        }.joined(separator: "\n")
        return """
            {
              "tokenizer_class": "GPT2Tokenizer",
              "errors": "replace",
            \(tokens)
              "add_prefix_space": false,
              "add_bos_token": \(roles.prependBOS),
              "add_eos_token": false,
              "clean_up_tokenization_spaces": false
            }

            """
    }

    /// A JSON string literal, escaped as `serde_json` escapes (quote, backslash, control characters).
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
