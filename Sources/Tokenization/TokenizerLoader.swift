import Foundation

/// Loads a Hugging Face tokenizer directory.
///
/// Two layouts are understood: `tokenizer.json` (a BPE model with the ByteLevel pre-tokenizer and
/// decoder; preferred when present, as `transformers` does) or the older `vocab.json` +
/// `merges.txt` pair that GPT-2 and OPT ship. Special tokens come from `tokenizer_config.json`
/// and `special_tokens_map.json`; `add_bos_token`/`add_eos_token` decide what is put around every
/// text (OPT's `add_bos_token: true` with `bos_token: "</s>"` prepends id 2).
extension Tokenizer.SpecialTokens {
    /// GPT2Tokenizer's defaults: `<|endoftext|>` is BOS, EOS and UNK unless the folder says otherwise.
    mutating func defaultToEndOfText() {
        if bos == nil { bos = "<|endoftext|>" }
        if eos == nil { eos = "<|endoftext|>" }
        if unk == nil { unk = "<|endoftext|>" }
    }
}

extension Tokenizer {
    /// Loads the tokenizer in `directory`.
    public static func load(directory: String) throws -> Tokenizer {
        let dir = URL(fileURLWithPath: directory)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw TokenizerError.missingFile("\(directory) is not a directory (pass the folder holding vocab.json and merges.txt, or tokenizer.json)")
        }
        let config = try optionalJSONObject(dir.appendingPathComponent("tokenizer_config.json"))
        let map = try optionalJSONObject(dir.appendingPathComponent("special_tokens_map.json"))

        var specials = Tokenizer.SpecialTokens()
        for source in [config, map] {
            guard let source else { continue }
            if let v = tokenContent(source["bos_token"]) { specials.bos = v }
            if let v = tokenContent(source["eos_token"]) { specials.eos = v }
            if let v = tokenContent(source["unk_token"]) { specials.unk = v }
            if let v = tokenContent(source["pad_token"]) { specials.pad = v }
        }
        let addBOS = (config?["add_bos_token"] as? Bool) ?? false
        let addEOS = (config?["add_eos_token"] as? Bool) ?? false
        let cleanUp = (config?["clean_up_tokenization_spaces"] as? Bool) ?? false

        let tokenizerJSON = dir.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: tokenizerJSON.path) {
            return try loadTokenizerJSON(tokenizerJSON, specials: specials, config: config,
                                         addBOS: addBOS, addEOS: addEOS, cleanUp: cleanUp)
        }

        let vocabURL = dir.appendingPathComponent("vocab.json")
        let mergesURL = dir.appendingPathComponent("merges.txt")
        for url in [vocabURL, mergesURL] where !FileManager.default.fileExists(atPath: url.path) {
            throw TokenizerError.missingFile("\(url.path) (a tokenizer directory needs tokenizer.json, or vocab.json and merges.txt)")
        }
        let vocabulary = try readVocabulary(vocabURL)
        let merges = try readMerges(mergesURL)
        let model = try ByteLevelBPE(vocabulary: vocabulary, merges: merges.pairs,
                                     mergeOrigin: { "\(mergesURL.path):\(merges.lines[$0])" })

        if vocabulary["<|endoftext|>"] != nil { specials.defaultToEndOfText() }
        var added: [AddedToken] = []
        var nextId = model.vocabularySize
        func register(_ content: String, special: Bool, id: Int? = nil) {
            guard !added.contains(where: { $0.content == content }) else { return }
            let tokenId: Int
            if let id { tokenId = id } else if let v = vocabulary[content] { tokenId = v } else { tokenId = nextId; nextId += 1 }
            added.append(AddedToken(content: content, id: tokenId, special: special))
        }
        if let extra = try optionalJSONObject(dir.appendingPathComponent("added_tokens.json")) {
            for (content, id) in extra {
                guard let id = (id as? NSNumber)?.intValue else {
                    throw TokenizerError.malformed(dir.appendingPathComponent("added_tokens.json").path,
                                                   "the id of \(quoted(content)) is not an integer")
                }
                register(content, special: false, id: id)
            }
        }
        added += addedTokensDecoder(config).filter { t in !added.contains { $0.content == t.content } }
        for s in [specials.bos, specials.eos, specials.unk, specials.pad].compactMap({ $0 }) {
            register(s, special: true)
        }
        if let additional = config?["additional_special_tokens"] as? [Any] {
            for t in additional { if let s = tokenContent(t) { register(s, special: true) } }
        }
        let tok = Tokenizer(model: model, addedTokens: added, specialTokens: specials)
        let prefix = addBOS ? [tok.bosId].compactMap { $0 } : []
        let suffix = addEOS ? [tok.eosId].compactMap { $0 } : []
        let addPrefixSpace = (config?["add_prefix_space"] as? Bool) ?? false
        return Tokenizer(model: model, addedTokens: added, specialTokens: specials,
                         prefixIds: prefix, suffixIds: suffix, addPrefixSpace: addPrefixSpace,
                         cleanUpTokenizationSpaces: cleanUp)
    }

    /// `tokenizer_config.json`'s `added_tokens_decoder`: `{"0": {"content": "<s>", "special": true, …}}`.
    static func addedTokensDecoder(_ config: [String: Any]?) -> [AddedToken] {
        guard let table = config?["added_tokens_decoder"] as? [String: Any] else { return [] }
        return table.compactMap { key, value -> AddedToken? in
            guard let id = Int(key), let t = value as? [String: Any], let content = t["content"] as? String else { return nil }
            return AddedToken(content: content, id: id, special: (t["special"] as? Bool) ?? false,
                              lstrip: (t["lstrip"] as? Bool) ?? false, rstrip: (t["rstrip"] as? Bool) ?? false,
                              singleWord: (t["single_word"] as? Bool) ?? false)
        }.sorted { $0.id < $1.id }
    }

    /// A special token given as a string or as `{"content": …, "__type": "AddedToken"}`.
    static func tokenContent(_ any: Any?) -> String? {
        if let s = any as? String { return s }
        if let d = any as? [String: Any] { return d["content"] as? String }
        return nil
    }

    // MARK: Files

    /// `vocab.json`: one JSON object of token → id.
    public static func readVocabulary(_ url: URL) throws -> [String: Int] {
        let data = try readFile(url)
        guard let object = try parseJSON(data, path: url.path) as? [String: Any] else {
            throw TokenizerError.malformed(url.path, "expected one JSON object mapping tokens to ids")
        }
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(object.count)
        for (token, value) in object {
            guard let n = value as? NSNumber, n.doubleValue == Double(n.intValue), n.intValue >= 0 else {
                throw TokenizerError.malformed(lineOf(key: token, in: data, path: url.path),
                                               "the id of \(quoted(token)) is not a non-negative integer")
            }
            vocabulary[token] = n.intValue
        }
        return vocabulary
    }

    /// `merges.txt`: an optional `#version` line, then one `left right` pair per line in rank
    /// order. Returns the pairs and the 1-based line of each.
    public static func readMerges(_ url: URL) throws -> (pairs: [(String, String)], lines: [Int]) {
        let data = try readFile(url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError.malformed(url.path, "not UTF-8 text")
        }
        var pairs: [(String, String)] = []
        var lines: [Int] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = line
            if line.last == "\r" { line = line.dropLast() }
            if line.isEmpty || (lineNumber == 1 && line.hasPrefix("#version")) { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.malformed("\(url.path):\(lineNumber)",
                                               "expected two tokens separated by one space, found \(quoted(String(line)))")
            }
            pairs.append((String(parts[0]), String(parts[1])))
            lines.append(lineNumber)
        }
        return (pairs, lines)
    }

    static func readFile(_ url: URL) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError.missingFile("\(url.path) cannot be read")
        }
        return data
    }

    static func optionalJSONObject(_ url: URL) throws -> [String: Any]? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let object = try parseJSON(try readFile(url), path: url.path) as? [String: Any] else {
            throw TokenizerError.malformed(url.path, "expected a JSON object")
        }
        return object
    }

    /// JSONSerialization with its "around character N" (Linux) or "line L, column C" (Darwin)
    /// turned into "path:line:column".
    static func parseJSON(_ data: Data, path: String) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            var location = path
            if let r = detail.range(of: #"character (\d+)"#, options: .regularExpression),
               let offset = Int(detail[r].dropFirst("character ".count)) {
                var line = 1, column = 1
                for b in data.prefix(offset) {
                    if b == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
                }
                location = "\(path):\(line):\(column)"
            } else if let r = detail.range(of: #"line \d+, column \d+"#, options: .regularExpression) {
                // Darwin's Foundation reports "around line L, column C" itself.
                let numbers = detail[r].split(whereSeparator: { !$0.isNumber })
                location = "\(path):\(numbers[0]):\(numbers[1])"
            }
            throw TokenizerError.malformed(location, "invalid JSON (\(detail))")
        }
    }

    /// "path:line" of the first line holding `"key"` (for errors about a value).
    static func lineOf(key: String, in data: Data, path: String) -> String {
        let needle = Array(("\"" + key + "\"").utf8)
        let bytes = [UInt8](data)
        var line = 1
        var i = 0
        while i + needle.count <= bytes.count {
            if bytes[i] == UInt8(ascii: "\n") { line += 1 }
            if bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle { return "\(path):\(line)" }
            i += 1
        }
        return path
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
