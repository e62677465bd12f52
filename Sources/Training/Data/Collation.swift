import SentenceModels
import Tokenization

// The original's collates (`sentence_vae/data/data_collate.py`) with one change: rows are padded
// to the longest row of the batch, not to the configured maximum (`fix_len`), which only costs
// compute. Truncation is HF's `truncation=True`: the maximum counts the special tokens, text
// tokens are dropped from the end. A tokenizer is not thread-safe: give each loader thread its own
// collation (`tokenizer.copy()`).

/// Sentences → one `TokenBatch`, a row per sentence (SentenceVAE training; the original's
/// `SentenceCollate` with `max_len = max_seq_len`).
public struct SentenceCollation {
    let encoder: TruncatingEncoder

    /// - Parameter maxLength: tokens per row at most, special tokens included.
    public init(tokenizer: Tokenizer, maxLength: Int) throws {
        encoder = try TruncatingEncoder(tokenizer: tokenizer, maxLength: maxLength, what: "sentence")
    }

    public var maxLength: Int { encoder.maxLength }

    /// - Throws: `DataError.collation` for an empty list.
    public func callAsFunction(_ sentences: [String]) throws -> TokenBatch {
        try encoder.batch(sentences)
    }
}

/// Passages → one `TokenBatch` each, a row per sentence (SentenceLLM training; the original's
/// `PassageCollate`). Passages are cut by `SentenceSplitter` into at most `maxSentences`
/// sentences (`max_sen_num`) of at most `maxSentenceLength` tokens each (`max_sen_len`, special
/// tokens included). Rows are the passage's real sentences only: the original's padding with
/// empty sentences and its sentence mask are the batch's row count here. Unlike the original, a
/// passage cut at `maxSentences` is marked as going on (`PassageBatch.continues`), so its last
/// row is not taught as the end of the text, and the last sentence gets the trailing space every
/// other sentence has (`SentenceSplitter.insideText`), so the end of the text is not visible in it.
public struct PassageCollation {
    let encoder: TruncatingEncoder
    public let splitter: SentenceSplitter

    /// - Parameter splitterMode: `.original` (default) cuts as the released checkpoints were
    ///   trained, dropping text after the last punctuation mark.
    public init(tokenizer: Tokenizer, splitterMode: SentenceSplitter.Mode = .original,
                maxSentences: Int, maxSentenceLength: Int) throws {
        guard maxSentences > 0 else {
            throw DataError.invalidArgument("maxSentences must be at least 1 (got \(maxSentences))")
        }
        encoder = try TruncatingEncoder(tokenizer: tokenizer, maxLength: maxSentenceLength, what: "sentence")
        splitter = SentenceSplitter(mode: splitterMode, maxSentences: maxSentences)
    }

    public var maxSentences: Int { splitter.maxSentences ?? 0 }
    public var maxSentenceLength: Int { encoder.maxLength }

    /// The sentences of `passage` as rows, or nil when the splitter finds no sentence in it (an
    /// empty passage, or with `.original` one with no punctuation mark or line break).
    public func callAsFunction(_ passage: String) throws -> TokenBatch? {
        try rows(passage)?.rows
    }

    /// The rows of `passage` and whether its text goes on past them (it had more than
    /// `maxSentences` sentences); nil when the splitter finds no sentence in it.
    public func rows(_ passage: String) throws -> (rows: TokenBatch, continues: Bool)? {
        var probe = splitter
        probe.maxSentences = maxSentences + 1
        let sentences = probe.split(passage)
        guard !sentences.isEmpty else { return nil }
        let rows = sentences.prefix(maxSentences).map(SentenceSplitter.insideText)
        return (try encoder.batch(rows), sentences.count > maxSentences)
    }

    /// Every passage that has a sentence; those without one are left out and listed in `skipped`
    /// so the caller can count them (a batch may come back with fewer passages than it was given).
    public func callAsFunction(_ passages: [String]) throws -> PassageBatch {
        var result = PassageBatch(passages: [], skipped: [])
        for (i, passage) in passages.enumerated() {
            if let (rows, continues) = try rows(passage) {
                result.passages.append(rows)
                result.continues.append(continues)
            } else {
                result.skipped.append(i)
            }
        }
        return result
    }
}

/// The passages of a batch, each its own `TokenBatch` of sentences.
public struct PassageBatch: Equatable, Sendable {
    public var passages: [TokenBatch]
    /// Positions in the input of the passages that had no sentence and were left out.
    public var skipped: [Int]
    /// Per passage: true when its text goes on past its last row (cut at the sentence limit), so
    /// the stop head's target there is "continue".
    public var continues: [Bool]

    /// `continues` defaults to false for every passage (each ends at its last row, as in the original).
    public init(passages: [TokenBatch], skipped: [Int], continues: [Bool]? = nil) {
        self.passages = passages
        self.skipped = skipped
        self.continues = continues ?? [Bool](repeating: false, count: passages.count)
    }
}

/// Passages → one `TokenBatch`, a row per passage truncated to `maxLength` tokens (token-level OPT
/// training and evaluation; the original's `eval_llm.py` uses `SentenceCollate` on passages).
public struct TokenWindowCollation {
    let encoder: TruncatingEncoder

    /// - Parameter maxLength: tokens per row at most (`max_seq_len`), special tokens included.
    public init(tokenizer: Tokenizer, maxLength: Int) throws {
        encoder = try TruncatingEncoder(tokenizer: tokenizer, maxLength: maxLength, what: "passage")
    }

    public var maxLength: Int { encoder.maxLength }

    /// - Throws: `DataError.collation` for an empty list.
    public func callAsFunction(_ passages: [String]) throws -> TokenBatch {
        try encoder.batch(passages)
    }
}

/// Texts → right-padded rows of at most `maxLength` tokens: what the three collations share.
struct TruncatingEncoder {
    let tokenizer: Tokenizer
    let maxLength: Int
    let padId: Int
    let what: String

    init(tokenizer: Tokenizer, maxLength: Int, what: String) throws {
        let specials = tokenizer.prefixIds.count + tokenizer.suffixIds.count
        guard maxLength > specials else {
            throw DataError.invalidArgument("a maximum of \(maxLength) tokens per \(what) leaves no room for text after the tokenizer's \(specials) special tokens; raise it")
        }
        guard let pad = tokenizer.padId else {
            throw DataError.collation("the tokenizer has no pad token; batches need one (OPT's is <pad>, id 1): add \"pad_token\" to special_tokens_map.json")
        }
        self.tokenizer = tokenizer
        self.maxLength = maxLength
        self.padId = pad
        self.what = what
    }

    func batch(_ texts: [String]) throws -> TokenBatch {
        guard !texts.isEmpty else { throw DataError.collation("cannot make a batch of no \(what)s") }
        let encoded = tokenizer.encodeBatch(texts, padding: .longest, maxLength: maxLength)
        let width = encoded.inputIds.first?.count ?? 0
        return try TokenBatch(ids: encoded.inputIds.flatMap { $0 },
                              mask: encoded.attentionMask.flatMap { $0.map { $0 == 1 } },
                              batch: texts.count, length: width)
    }
}
