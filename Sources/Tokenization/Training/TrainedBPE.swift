/// What `BPETrainer` learned: the vocabulary in id order and the merges in rank order, as
/// vocabulary-file text (special tokens as written, everything else in GPT-2's byte-level text).
public struct TrainedBPE: Sendable {
    /// Why training ended.
    public enum Stop: Equatable, Sendable {
        /// The vocabulary reached the size asked for.
        case vocabularyFull
        /// The most frequent pair left was seen fewer than `minFrequency` times.
        case minFrequency(bestCount: Int)
        /// Every word is a single token.
        case noPairsLeft
    }

    /// Token text by id.
    public let tokens: [String]
    /// Merges in rank order (each pair once).
    public let merges: [(String, String)]
    public let specialTokens: [String]
    /// Merge rounds run.
    public let rounds: Int
    public let stop: Stop
    /// Words of the training text (repeats included) and distinct words.
    public let words: Int
    public let uniqueWords: Int

    public var vocabularySize: Int { tokens.count }

    /// The tokenizer these files describe, as `Tokenizer.load` would build it from them, with no
    /// special tokens added around texts (for checks; write the directory to get OPT's settings).
    public func tokenizer() throws -> Tokenizer {
        var vocabulary: [String: Int] = [:]
        for (id, t) in tokens.enumerated() { vocabulary[t] = id }
        let model = try ByteLevelBPE(vocabulary: vocabulary, merges: merges)
        let added = specialTokens.compactMap { s in vocabulary[s].map { AddedToken(content: s, id: $0, special: true) } }
        return Tokenizer(model: model, addedTokens: added)
    }
}

/// Why training could not start.
public enum BPETrainingError: Error, Equatable, CustomStringConvertible {
    case vocabularyTooSmall(requested: Int, minimum: Int)
    case invalidMinFrequency(Int)
    case noWords

    public var description: String {
        switch self {
        case .vocabularyTooSmall(let n, let minimum):
            return "a vocabulary of \(n) tokens cannot hold the special tokens and the 256 byte symbols; ask for at least \(minimum) (\(minimum) means no merges)"
        case .invalidMinFrequency(let n):
            return "the minimum pair frequency must be 0 or more, not \(n)"
        case .noWords:
            return "the training text has no words"
        }
    }
}
