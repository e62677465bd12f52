import NeuralNet
import TensorCore

/// Cached decoding with the sentence decoder. Self-attention keeps a KV cache per layer; the
/// cross-attention memory is ONE vector, so softmax over its single key is 1 and the whole
/// cross-attention output `out_proj(W_v·m + b_v)` is a constant per sentence and layer: it is
/// computed once in `begin(memory:)` and added at every token (DESIGN.md §2.5).
public final class SentenceDecoderGenerator: CachedTokenStep {
    public let decoder: SentenceDecoder
    public let capacity: Int
    let caches: [KVCache]
    let attention: CachedAttention
    private let crossOutputs: [UnsafeMutablePointer<Float>]
    private let x = ScratchBuffer(), q = ScratchBuffer(), attended = ScratchBuffer(), projected = ScratchBuffer(), ffn = ScratchBuffer()
    public let logits: UnsafeMutablePointer<Float>

    public init(decoder: SentenceDecoder, capacity: Int? = nil) {
        self.decoder = decoder
        let config = decoder.config
        let positions = min(capacity ?? config.maxSequenceLength, config.maxSequenceLength)
        self.capacity = positions
        caches = decoder.layers.map { _ in KVCache(capacity: positions, width: config.hiddenSize) }
        attention = CachedAttention(heads: config.attentionHeads, width: config.hiddenSize)
        crossOutputs = decoder.layers.map { _ in .allocate(capacity: config.hiddenSize) }
        logits = .allocate(capacity: config.vocabularySize)
    }

    deinit {
        crossOutputs.forEach { $0.deallocate() }
        logits.deallocate()
    }

    /// Tokens in the cache for the current sentence.
    public var length: Int { caches.first?.length ?? 0 }

    /// Starts a sentence from its vector `memory` (`[hidden]`).
    public func begin(memory: UnsafePointer<Float>) {
        let width = decoder.config.hiddenSize
        let v = projected.reserve(width)
        for (layer, out) in zip(decoder.layers, crossOutputs) {
            let attn = layer.multiheadAttn
            RowOps.linear(weight: attn.inProjWeight.data + 2 * width * width, bias: attn.inProjBias.data + 2 * width,
                          inFeatures: width, outFeatures: width, memory, rows: 1, v)
            RowOps.linear(attn.outProj, v, rows: 1, out)
        }
        caches.forEach { $0.reset() }
    }

    /// Feeds `tokens` after the cached ones; leaves the last token's next-token logits in `logits`.
    public func run(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float> {
        let config = decoder.config
        let n = tokens.count, width = config.hiddenSize, embedWidth = config.wordEmbedProjectionDim
        let past = length
        guard n > 0 else { throw TensorError.invalidArgument(op: "SentenceDecoderGenerator", reason: "no tokens to run") }
        guard past + n <= capacity else {
            throw TensorError.invalidArgument(op: "SentenceDecoderGenerator", reason: "\(past + n) tokens exceed the limit of \(capacity) (max_seq_len or --max-length)")
        }
        let x = self.x.reserve(n * width)
        try RowOps.embed(tokens, table: decoder.embedding.embedToken, projectIn: decoder.embedding.projectIn, scratch: projected, into: x)
        RowOps.addInPlace(x, decoder.embedding.positions.data + past * width, count: n * width)

        let q = self.q.reserve(n * width), attended = self.attended.reserve(n * width)
        let out = projected.reserve(n * max(width, embedWidth))
        for (l, layer) in decoder.layers.enumerated() {
            let attn = layer.selfAttn, cache = caches[l]
            let w = attn.inProjWeight.data, b = attn.inProjBias.data
            RowOps.linear(weight: w, bias: b, inFeatures: width, outFeatures: width, x, rows: n, q)
            RowOps.linear(weight: w + width * width, bias: b + width, inFeatures: width, outFeatures: width, x, rows: n, cache.keys + past * width)
            RowOps.linear(weight: w + 2 * width * width, bias: b + 2 * width, inFeatures: width, outFeatures: width, x, rows: n, cache.values + past * width)
            cache.length = past + n
            attention(q: q, rows: n, cache: cache, past: past, scale: 1 / Float(attention.headDim).squareRoot(), out: attended)
            RowOps.linear(attn.outProj, attended, rows: n, out)
            RowOps.addInPlace(x, out, count: n * width)
            RowOps.layerNorm(layer.norm1, x, rows: n)
            for r in 0..<n { RowOps.addInPlace(x + r * width, crossOutputs[l], count: width) }
            RowOps.layerNorm(layer.norm2, x, rows: n)
            let hidden = ffn.reserve(n * config.ffnDim)
            RowOps.linear(layer.linear1, x, rows: n, hidden)
            Kernels.relu(hidden, hidden, count: n * config.ffnDim)
            RowOps.linear(layer.linear2, hidden, rows: n, out)
            RowOps.addInPlace(x, out, count: n * width)
            RowOps.layerNorm(layer.norm3, x, rows: n)
        }
        RowOps.linear(decoder.linear, x + (n - 1) * width, rows: 1, logits)
        return logits
    }

    /// Decodes one sentence from `memory`: BOS first, then one token per step until EOS (kept in
    /// the result) or `maxTokens` generated tokens (at most `capacity − 1`, so BOS and the sentence
    /// fit the positions). `onToken` sees each token as it comes.
    public func generate(memory: UnsafePointer<Float>, sampler: Sampler, maxTokens: Int? = nil, onToken: ((Int) -> Void)? = nil) throws -> [Int] {
        begin(memory: memory)
        let config = decoder.config
        // BOS + the sentence fit in max_seq_len positions, so a generated sentence can always be
        // re-encoded ([BOS] + its tokens) without truncation.
        let limit = min(maxTokens ?? capacity - 1, capacity - 1)
        var output: [Int] = []
        output.reserveCapacity(limit)
        var next = config.bosId
        while output.count < limit {
            let logits = try self(token: next)
            next = sampler.next(logits)
            output.append(next)
            onToken?(next)
            if next == config.eosId { break }
        }
        return output
    }
}
