import ModelIO
import Tokenization

/// A text as the SLLM's prompt, built the same way by `sllm` and `demo`: cut into sentences, each
/// tokenized as the trainer tokenizes a sentence ([</s>] + tokens) and truncated to max_sen_len,
/// with a warning for whatever is cut.
struct SLLMPrompt {
    let sentences: [String]
    let ids: [[Int]]

    /// `toGenerate`: the sentences the caller means to generate (nil: as many as fit). A text that
    /// fills the model's window (max_sen_num sentences, what it was trained on) keeps its last
    /// sentences, the ones a continuation follows, leaving room for `toGenerate` of them, at most
    /// half the window; otherwise a long text would leave no room and nothing would be generated.
    init(_ text: String, tokenizer: Tokenizer, config: SLLMConfig, mode: SentenceSplitter.Mode, toGenerate: Int?) throws {
        var sentences = SentenceSplitter(mode: mode).split(text)
        guard !sentences.isEmpty else {
            throw CLIError("the input has no sentence to start from (empty, or no sentence-ending punctuation in --split-mode original)")
        }
        let window = config.maxSentenceNum
        if sentences.count >= window, window > 1 {
            let room = min(toGenerate ?? window / 2, window / 2), keep = window - room
            if keep < sentences.count {
                warn("warning: the input has \(sentences.count) sentences and the model reads max_sen_num \(window); "
                     + "continuing from the last \(keep), to leave room for \(room) more")
                sentences = Array(sentences.suffix(keep))
            }
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
