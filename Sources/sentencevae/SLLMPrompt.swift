import ModelIO
import Tokenization

/// A text as the SLLM's prompt, built the same way by `sllm` and `demo`: cut into sentences (at
/// most max_sen_num), each tokenized as the trainer tokenizes a sentence ([</s>] + tokens) and
/// truncated to max_sen_len, with a warning for whatever is cut.
struct SLLMPrompt {
    let sentences: [String]
    let ids: [[Int]]

    init(_ text: String, tokenizer: Tokenizer, config: SLLMConfig, mode: SentenceSplitter.Mode) throws {
        var sentences = SentenceSplitter(mode: mode).split(text)
        guard !sentences.isEmpty else {
            throw CLIError("the input has no sentence to start from (empty, or no sentence-ending punctuation in --split-mode original)")
        }
        if sentences.count > config.maxSentenceNum {
            warn("warning: the input has \(sentences.count) sentences; only the first max_sen_num \(config.maxSentenceNum) are used")
            sentences = Array(sentences.prefix(config.maxSentenceNum))
        }
        self.sentences = sentences
        // As the trainer reads a passage: every sentence ends in whitespace, the last one too.
        ids = sentences.enumerated().map { i, s -> [Int] in
            let ids = tokenizer.encode(SentenceSplitter.insideText(s))
            guard ids.count > config.maxSentenceLen else { return ids }
            warn("warning: sentence \(i) has \(ids.count) tokens; truncated to max_sen_len \(config.maxSentenceLen)")
            return Array(ids.prefix(config.maxSentenceLen))
        }
    }
}
