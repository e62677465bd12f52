import Foundation

/// `tokenizer.json`, the `tokenizers` library's single-file format: a BPE model (vocab + merges),
/// added tokens, the ByteLevel pre-tokenizer and a post-processor that says which special tokens
/// go around a text. Anything that would tokenize differently from GPT-2's byte-level BPE (a
/// normalizer, another pre-tokenizer, WordPiece) is refused with a message rather than ignored.
extension Tokenizer {
    /// `tokenizer.json`: model, added tokens, pre-tokenizer and post-processor.
    static func loadTokenizerJSON(_ url: URL, specials: Tokenizer.SpecialTokens, config: [String: Any]?,
                                          addBOS: Bool, addEOS: Bool, cleanUp: Bool) throws -> Tokenizer {
        guard let root = try optionalJSONObject(url) else { throw TokenizerError.missingFile(url.path) }
        let path = url.path
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformed(path, "no \"model\" object")
        }
        let type = (model["type"] as? String) ?? "BPE"
        guard type == "BPE" else {
            throw TokenizerError.unsupported("\(path): model type \(type); only byte-level BPE is implemented")
        }
        guard let vocabObject = model["vocab"] as? [String: Any] else {
            throw TokenizerError.malformed(path, "model.vocab is not an object of token → id")
        }
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(vocabObject.count)
        for (token, value) in vocabObject {
            guard let n = value as? NSNumber else {
                throw TokenizerError.malformed(path, "model.vocab[\(quoted(token))] is not an integer id")
            }
            vocabulary[token] = n.intValue
        }
        var pairs: [(String, String)] = []
        let mergeList = (model["merges"] as? [Any]) ?? []
        pairs.reserveCapacity(mergeList.count)
        for (i, m) in mergeList.enumerated() {
            if let s = m as? String {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw TokenizerError.malformed(path, "model.merges[\(i)] = \(quoted(s)) is not two tokens separated by one space")
                }
                pairs.append((String(parts[0]), String(parts[1])))
            } else if let a = m as? [String], a.count == 2 {
                pairs.append((a[0], a[1]))
            } else {
                throw TokenizerError.malformed(path, "model.merges[\(i)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key] as? String, !v.isEmpty {
                throw TokenizerError.unsupported("\(path): model.\(key) = \(quoted(v)) (not a byte-level BPE)")
            }
        }
        let bpe = try ByteLevelBPE(vocabulary: vocabulary, merges: pairs, mergeOrigin: { "\(path): model.merges[\($0)]" })
        if let unk = model["unk_token"] as? String, let id = vocabulary[unk] { bpe.unknownId = id }

        var added: [AddedToken] = []
        for (i, any) in ((root["added_tokens"] as? [Any]) ?? []).enumerated() {
            guard let t = any as? [String: Any], let content = t["content"] as? String,
                  let id = (t["id"] as? NSNumber)?.intValue else {
                throw TokenizerError.malformed(path, "added_tokens[\(i)] needs \"id\" and \"content\"")
            }
            added.append(AddedToken(content: content, id: id, special: (t["special"] as? Bool) ?? false,
                                    lstrip: (t["lstrip"] as? Bool) ?? false, rstrip: (t["rstrip"] as? Bool) ?? false,
                                    singleWord: (t["single_word"] as? Bool) ?? false))
        }
        if let normalizer = root["normalizer"] as? [String: Any] {
            throw TokenizerError.unsupported("\(path): normalizer \(normalizer["type"] ?? "?"); GPT-2-style byte-level BPE has none")
        }
        let addPrefixSpace = try byteLevelPrefixSpace(root["pre_tokenizer"], path: path)
        var specials = specials
        if vocabulary["<|endoftext|>"] != nil || added.contains(where: { $0.content == "<|endoftext|>" }) {
            specials.defaultToEndOfText()
        }
        // `transformers` registers the configured special tokens even when tokenizer.json does not
        // list them, so that they are matched whole in text.
        for s in [specials.bos, specials.eos, specials.unk, specials.pad].compactMap({ $0 })
        where !added.contains(where: { $0.content == s }) {
            if let id = vocabulary[s] { added.append(AddedToken(content: s, id: id, special: true)) }
        }
        var tok = Tokenizer(model: bpe, addedTokens: added, specialTokens: specials, addPrefixSpace: addPrefixSpace)
        var prefix: [Int] = [], suffix: [Int] = []
        if let (p, s) = templateSingle(root["post_processor"], tokenizer: tok) {
            prefix = p; suffix = s
        } else {
            if addBOS, let id = tok.bosId { prefix = [id] }
            if addEOS, let id = tok.eosId { suffix = [id] }
        }
        tok = Tokenizer(model: bpe, addedTokens: added, specialTokens: specials, prefixIds: prefix,
                        suffixIds: suffix, addPrefixSpace: addPrefixSpace, cleanUpTokenizationSpaces: cleanUp)
        return tok
    }

    /// Finds the ByteLevel pre-tokenizer (alone or inside a Sequence) and returns its
    /// `add_prefix_space`; anything else is refused rather than silently tokenized differently.
    static func byteLevelPrefixSpace(_ any: Any?, path: String) throws -> Bool {
        guard let pre = any as? [String: Any] else {
            throw TokenizerError.unsupported("\(path): no pre_tokenizer; expected ByteLevel")
        }
        let type = pre["type"] as? String ?? ""
        if type == "ByteLevel" {
            if let useRegex = pre["use_regex"] as? Bool, !useRegex {
                throw TokenizerError.unsupported("\(path): ByteLevel pre-tokenizer with use_regex false")
            }
            return (pre["add_prefix_space"] as? Bool) ?? false
        }
        if type == "Sequence", let list = pre["pretokenizers"] as? [Any], list.count == 1 {
            return try byteLevelPrefixSpace(list[0], path: path)
        }
        throw TokenizerError.unsupported("\(path): pre_tokenizer \(type); only GPT-2's ByteLevel is implemented")
    }

    /// The special ids a TemplateProcessing (or RobertaProcessing) puts around a single sequence.
    static func templateSingle(_ any: Any?, tokenizer: Tokenizer) -> ([Int], [Int])? {
        guard let post = any as? [String: Any], let type = post["type"] as? String else { return nil }
        switch type {
        case "TemplateProcessing":
            guard let single = post["single"] as? [Any] else { return nil }
            var prefix: [Int] = [], suffix: [Int] = []
            var seenSequence = false
            for item in single {
                guard let dict = item as? [String: Any] else { continue }
                if dict["Sequence"] != nil { seenSequence = true; continue }
                guard let sp = dict["SpecialToken"] as? [String: Any], let name = sp["id"] as? String else { continue }
                var ids: [Int] = []
                if let table = post["special_tokens"] as? [String: Any], let entry = table[name] as? [String: Any],
                   let list = entry["ids"] as? [NSNumber] {
                    ids = list.map(\.intValue)
                } else if let id = tokenizer.id(for: name) {
                    ids = [id]
                }
                if seenSequence { suffix += ids } else { prefix += ids }
            }
            return (prefix, suffix)
        case "RobertaProcessing", "BertProcessing":
            let cls = (post["cls"] as? [Any])?.last as? NSNumber
            let sep = (post["sep"] as? [Any])?.last as? NSNumber
            return ([cls].compactMap { $0?.intValue }, [sep].compactMap { $0?.intValue })
        case "Sequence":
            for p in (post["processors"] as? [Any]) ?? [] {
                if let r = templateSingle(p, tokenizer: tokenizer) { return r }
            }
            return nil
        default:
            return nil
        }
    }
}
