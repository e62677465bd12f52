/// A GPT-2-style byte-level BPE tokenizer with HF's conventions: added tokens are matched first,
/// the rest is pre-tokenized and run through BPE, and special tokens are put around the result
/// (OPT puts `</s>` in front of every text).
///
/// Encoding updates a word cache, so one `Tokenizer` must not be used from two threads at once;
/// give each thread its own.
public final class Tokenizer {
    /// The special tokens a model cares about, by role.
    public struct SpecialTokens: Equatable, Sendable {
        public var bos: String?
        public var eos: String?
        public var unk: String?
        public var pad: String?
        public init(bos: String? = nil, eos: String? = nil, unk: String? = nil, pad: String? = nil) {
            self.bos = bos; self.eos = eos; self.unk = unk; self.pad = pad
        }
    }

    public let model: ByteLevelBPE
    public let addedTokens: [AddedToken]
    public let specialTokens: SpecialTokens
    /// Ids put before / after every encoded text when `addSpecialTokens` is true.
    public let prefixIds: [Int]
    public let suffixIds: [Int]
    /// HF ByteLevel's `add_prefix_space`: a space is put in front of text that lacks one.
    public let addPrefixSpace: Bool
    /// `tokenizer_config.json`'s `clean_up_tokenization_spaces`, the default of `decode`'s option
    /// (false unless the folder says otherwise, as in `transformers` 4.45+).
    public let cleanUpTokenizationSpaces: Bool

    private let matcher: AddedTokenMatcher
    private let addedById: [Int: AddedToken]

    public init(model: ByteLevelBPE, addedTokens: [AddedToken] = [], specialTokens: SpecialTokens = .init(),
                prefixIds: [Int] = [], suffixIds: [Int] = [], addPrefixSpace: Bool = false,
                cleanUpTokenizationSpaces: Bool = false) {
        self.model = model
        self.addedTokens = addedTokens
        self.specialTokens = specialTokens
        self.prefixIds = prefixIds
        self.suffixIds = suffixIds
        self.addPrefixSpace = addPrefixSpace
        self.cleanUpTokenizationSpaces = cleanUpTokenizationSpaces
        self.matcher = AddedTokenMatcher(addedTokens)
        var byId: [Int: AddedToken] = [:]
        for t in addedTokens { byId[t.id] = t }
        self.addedById = byId
    }

    /// A tokenizer for another thread: same vocabulary and settings, its own word cache.
    public func copy() -> Tokenizer {
        Tokenizer(model: ByteLevelBPE(copying: model), addedTokens: addedTokens, specialTokens: specialTokens,
                  prefixIds: prefixIds, suffixIds: suffixIds, addPrefixSpace: addPrefixSpace,
                  cleanUpTokenizationSpaces: cleanUpTokenizationSpaces)
    }

    // MARK: Ids of tokens

    /// The id of a token as written in the vocabulary (or an added token's content).
    public func id(for token: String) -> Int? {
        if let t = addedTokens.first(where: { $0.content == token }) { return t.id }
        return model.tokenToId[token]
    }

    /// The vocabulary text of an id.
    public func token(for id: Int) -> String? {
        if let t = addedById[id] { return t.content }
        return id >= 0 && id < model.idToToken.count ? model.idToToken[id] : nil
    }

    public var bosId: Int? { specialTokens.bos.flatMap(id(for:)) }
    public var eosId: Int? { specialTokens.eos.flatMap(id(for:)) }
    public var unkId: Int? { specialTokens.unk.flatMap(id(for:)) }
    public var padId: Int? { specialTokens.pad.flatMap(id(for:)) }

    /// One more than the largest id the tokenizer can produce.
    public var vocabularySize: Int {
        max(model.vocabularySize, (addedTokens.map(\.id).max() ?? -1) + 1)
    }

    // MARK: Encoding

    /// The ids of `text`, with the prefix/suffix special tokens when `addSpecialTokens`.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        appendIds(of: text, addSpecialTokens: addSpecialTokens, to: &ids)
        return ids.map { Int($0) }
    }

    /// Appends the ids of `text` to `ids` (the allocation-free form of `encode`).
    public func appendIds(of text: String, addSpecialTokens: Bool = true, to ids: inout [Int32]) {
        if addSpecialTokens { for id in prefixIds { ids.append(Int32(id)) } }
        var text = text
        text.withUTF8 { p in
            matcher.split(p, plain: { s, e in appendPlain(p, s, e, to: &ids) },
                          token: { ids.append(Int32($0)) })
        }
        if addSpecialTokens { for id in suffixIds { ids.append(Int32(id)) } }
    }

    private func appendPlain(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, to ids: inout [Int32]) {
        if addPrefixSpace && p[s] != UInt8(ascii: " ") {
            var copy = [UInt8](repeating: UInt8(ascii: " "), count: 1)
            copy.append(contentsOf: p[s..<e])
            copy.withUnsafeBufferPointer { q in
                PreTokenizer.split(q) { a, b in model.encodeWord(q, a, b, into: &ids) }
            }
            return
        }
        let sub = UnsafeBufferPointer(rebasing: p[s..<e])
        PreTokenizer.split(sub) { a, b in model.encodeWord(sub, a, b, into: &ids) }
    }

    /// Encodes many texts for a model batch: truncation to `maxLength` (special tokens included,
    /// text tokens dropped from the end, as HF's `truncation=True`), right padding with the pad id
    /// and an attention mask of 1 for real tokens and 0 for padding. A tokenizer without a pad token
    /// (GPT-2) pads with id 0, where HF refuses; the mask is what matters.
    public func encodeBatch(_ texts: [String], padding: Padding = .longest, maxLength: Int? = nil,
                            addSpecialTokens: Bool = true) -> BatchEncoding {
        let specials = addSpecialTokens ? prefixIds.count + suffixIds.count : 0
        var rows: [[Int]] = texts.map { text in
            var body = encode(text, addSpecialTokens: false)
            if let maxLength { body = Array(body.prefix(max(0, maxLength - specials))) }
            return addSpecialTokens ? prefixIds + body + suffixIds : body
        }
        if let maxLength { rows = rows.map { Array($0.prefix(maxLength)) } }
        var masks = rows.map { [Int](repeating: 1, count: $0.count) }
        let width: Int
        switch padding {
        case .none: width = 0
        case .longest: width = rows.map(\.count).max() ?? 0
        case .maxLength: width = maxLength ?? (rows.map(\.count).max() ?? 0)
        }
        let pad = padId ?? 0
        for i in rows.indices where rows[i].count < width {
            let extra = width - rows[i].count
            rows[i] += [Int](repeating: pad, count: extra)
            masks[i] += [Int](repeating: 0, count: extra)
        }
        return BatchEncoding(inputIds: rows, attentionMask: masks)
    }

    // MARK: Decoding

    /// The text of `ids`. Bytes that do not form valid UTF-8 become U+FFFD, one per maximal
    /// invalid subsequence (Python's `errors="replace"`); unknown ids are ignored.
    /// `cleanUpTokenizationSpaces` (default: the folder's setting) removes the space `transformers`
    /// removes before `. ? ! ,` and English contractions.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false, cleanUpTokenizationSpaces: Bool? = nil) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            if let t = addedById[id] {
                if !(skipSpecialTokens && t.special) { bytes.append(contentsOf: t.content.utf8) }
            } else if id >= 0 && id < model.idToBytes.count {
                if let b = model.idToBytes[id] {
                    bytes.append(contentsOf: b)
                } else if let t = model.idToToken[id] {
                    bytes.append(contentsOf: t.utf8)
                }
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return (cleanUpTokenizationSpaces ?? self.cleanUpTokenizationSpaces) ? Tokenizer.cleanUp(text) : text
    }

    /// `transformers`' `clean_up_tokenization`, replacement for replacement.
    public static func cleanUp(_ text: String) -> String {
        var t = text
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            t = t.replacingOccurrences(of: from, with: to)
        }
        return t
    }
}

/// How `encodeBatch` pads rows.
public enum Padding: Sendable {
    /// Leave rows at their own lengths.
    case none
    /// Pad to the longest row (HF's `padding=True`).
    case longest
    /// Pad to `maxLength` (the original's `fix_len=True`).
    case maxLength
}

/// Rows of ids with their attention masks, all of one length unless `Padding.none`.
public struct BatchEncoding: Equatable, Sendable {
    public var inputIds: [[Int]]
    public var attentionMask: [[Int]]
}
