import NeuralNet
import TensorCore

/// Sentence-by-sentence generation with the SLLM: the prompt's sentences are encoded in one batch
/// and run through the OPT layers at once (filling a sentence-level KV cache); then, until the stop
/// head says stop or the sentence budget is spent: decode a sentence from the last hidden state,
/// re-encode it exactly as the tokenizer encodes a sentence (leading `</s>`, no trailing EOS —
/// DESIGN.md §2.2), and run one more OPT step for it. Matrices are read through `weights`.
public final class SentenceLLMGenerator {
    public let sllm: SentenceLLM
    public let encoder: SentenceEncoderStep
    public let decoder: SentenceDecoderGenerator
    let blocks: [OPTBlockStep]
    private let stopHead: InferenceLinear
    let caches: [KVCache]
    private let rows = ScratchBuffer()
    private let stop = UnsafeMutablePointer<Float>.allocate(capacity: 2)
    private var last: UnsafeMutablePointer<Float>
    /// The sentence `feed` re-encodes (`[</s>] + tokens`), reused so feeding allocates nothing.
    private var pending: [Int] = []

    public struct Result {
        public let sentences: [[Int]]
        /// True when the stop head ended generation (false: the sentence budget ran out).
        public let stopped: Bool
    }

    /// `capacity`: sentences (prompt + generated) the KV cache holds.
    public init(sllm: SentenceLLM, capacity: Int, weights: InferenceWeights = InferenceWeights()) {
        self.sllm = sllm
        let positions = min(capacity, sllm.llmConfig.maxPositionEmbeddings)
        encoder = SentenceEncoderStep(encoder: sllm.svae.encoder, weights: weights)
        decoder = SentenceDecoderGenerator(decoder: sllm.svae.decoder, weights: weights)
        blocks = sllm.llmLayers.map { OPTBlockStep($0, weights: weights) }
        stopHead = InferenceLinear(sllm.fc, weights)
        caches = sllm.llmLayers.map { _ in KVCache(capacity: positions, width: sllm.llmConfig.hiddenSize) }
        last = rows.reserve(sllm.llmConfig.hiddenSize)
    }

    deinit { stop.deallocate() }

    public var length: Int { caches.isEmpty ? 0 : caches[0].length }

    /// Bytes of sentence-level KV cache per sentence (all layers).
    public var cacheBytesPerSentence: Int { caches.reduce(0) { $0 + 2 * $1.width * MemoryLayout<Float>.stride } }

    /// Bytes of sentence-level KV cache in use (the sentences held).
    public var cacheBytesHeld: Int { length * cacheBytesPerSentence }

    /// Encodes `sentences` (one batch) and runs them after what the cache holds.
    func append(_ sentences: [[Int]]) throws {
        try checkRoom(sentences.count)
        try encoder.encode(sentences, into: rows.reserve(sentences.count * sllm.llmConfig.hiddenSize))
        try runEncoded(sentences.count)
    }

    private func checkRoom(_ n: Int) throws {
        guard length + n <= caches[0].capacity else {
            throw TensorError.invalidArgument(op: "SentenceLLMGenerator", reason: "\(length + n) sentences exceed the limit of \(caches[0].capacity)")
        }
    }

    /// Runs the `n` sentence vectors in `rows` through the OPT layers after what the cache holds.
    private func runEncoded(_ n: Int) throws {
        let width = sllm.llmConfig.hiddenSize
        let x = rows.reserve(n * width)
        let table = sllm.llmPositions.weight.data
        for i in 0..<n { RowOps.addInPlace(x + i * width, table + (length + i + OPTLearnedPositions.offset) * width, count: width) }
        // Only the last row is read after the layers, so the last one carries no other row on.
        for l in 0..<blocks.count { try blocks[l](x, rows: n, cache: caches[l], lastRowOnly: l == blocks.count - 1) }
        last = x + (n - 1) * width
    }

    /// True when the stop head (`fc`, class 1 = another sentence follows) says to continue: its
    /// likelier class (the original's argmax), or with a sampling `sampler` a draw from its two
    /// probabilities, so sampled texts end at a natural length instead of always or never.
    public func shouldContinue(sampler: Sampler? = nil) -> Bool {
        stopHead(last, rows: 1, stop)
        return (sampler?.choose(stop, count: 2) ?? Sampler.argmax(stop, count: 2)) == 1
    }

    // The steps of `generate`, public for callers that drive the loop themselves (benchmarks,
    // streaming front ends): prefill, then per sentence shouldContinue → decodeSentence → feed.

    /// Empties the cache and runs the prompt's sentences (each `[</s>] + tokens`) as one batch.
    public func prefill(_ sentences: [[Int]]) throws {
        guard !sentences.isEmpty else {
            throw TensorError.invalidArgument(op: "SentenceLLMGenerator", reason: "the prompt has no sentences")
        }
        for l in 0..<caches.count { caches[l].reset() }
        try append(sentences)
    }

    /// Decodes the next sentence from the last position's hidden state.
    public func decodeSentence(sampler: Sampler, maxTokens: Int? = nil, ignoreEOS: Bool = false,
                               onToken: ((Int) -> Void)? = nil) throws -> [Int] {
        try decoder.generate(memory: last, sampler: sampler, maxTokens: maxTokens, ignoreEOS: ignoreEOS, onToken: onToken)
    }

    /// The same, into `sentence` (emptied first, its capacity kept): with one reused array the
    /// loop prefill → (shouldContinue → decodeSentence → feed)* allocates nothing after warm-up.
    public func decodeSentence(sampler: Sampler, into sentence: inout [Int], maxTokens: Int? = nil, ignoreEOS: Bool = false,
                               onToken: ((Int) -> Void)? = nil) throws {
        try decoder.generate(memory: last, sampler: sampler, into: &sentence, maxTokens: maxTokens, ignoreEOS: ignoreEOS, onToken: onToken)
    }

    /// Runs a generated sentence through the LLM, re-encoded as the tokenizer encodes a sentence.
    public func feed(generated tokens: [Int]) throws {
        let config = sllm.svae.config
        try checkRoom(1)
        pending.removeAll(keepingCapacity: true)
        pending.append(config.bosId)
        let count = !tokens.isEmpty && tokens[tokens.count - 1] == config.eosId ? tokens.count - 1 : tokens.count
        for i in 0..<count { pending.append(tokens[i]) }
        try encoder.encode(sentence: pending, into: rows.reserve(sllm.llmConfig.hiddenSize))
        try runEncoded(1)
    }

    /// Sentences (prompt + generated) the cache holds at most.
    public var capacity: Int { caches[0].capacity }

    /// Sentences the cache can still take.
    public var remainingCapacity: Int { capacity - length }

    /// Generates after the prompt `sentences` (each `[</s>] + tokens`). `maxSentences` caps the
    /// generated sentences, `maxTokens` each sentence's length. `onSentence` sees each as it comes.
    public func generate(prompt sentences: [[Int]], maxSentences: Int, sampler: Sampler, maxTokens: Int? = nil,
                         onToken: ((Int) -> Void)? = nil, onSentence: (([Int]) -> Void)? = nil) throws -> Result {
        try prefill(sentences)
        // The repetition penalty sees the prompt and the generated sentences, never the end of sentence.
        sampler.exempt = sllm.svae.config.eosId
        sampler.forgetHistory()
        for i in 0..<sentences.count { sampler.remember(sentences[i]) }
        var generated: [[Int]] = []
        while generated.count < maxSentences {
            guard shouldContinue(sampler: sampler) else { return Result(sentences: generated, stopped: true) }
            let tokens = try decodeSentence(sampler: sampler, maxTokens: maxTokens, onToken: onToken)
            generated.append(tokens)
            onSentence?(tokens)
            guard generated.count < maxSentences, remainingCapacity > 0 else { break }
            try feed(generated: tokens)
        }
        return Result(sentences: generated, stopped: false)
    }
}
