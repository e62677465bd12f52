import SentenceModels

/// The token-level baseline's decoding loop, shared by `llm` and `demo`: the prompt in one pass
/// through the KV cache, then one token at a time until EOS (kept in the output) or `budget` tokens.
enum OPTContinuation {
    static func generate(_ loaded: ModelFactory.OPT, prompt: [Int], budget: Int, sampling: SamplingOptions,
                         onToken: (Int) -> Void) throws -> [Int] {
        guard budget > 0 else { return [] }
        let generator = OPTGenerator(model: loaded.model, capacity: prompt.count + budget, weights: loaded.weights)
        let sampler = try Sampler(options: sampling, vocabulary: loaded.config.vocabSize)
        sampler.remember(prompt)   // the repetition penalty sees the prompt, as transformers' does
        var output: [Int] = []
        var logits = try generator(prompt)
        while true {
            let next = sampler.next(logits)
            output.append(next)
            onToken(next)
            if next == loaded.config.eosTokenId || output.count == budget { return output }
            logits = try generator(token: next)
        }
    }
}
