import NeuralNet
import TensorCore

/// Cached decoding with the sentence decoder. Self-attention keeps a KV cache per layer; the
/// cross-attention memory is ONE vector, so softmax over its single key is 1 and the whole
/// cross-attention output `out_proj(W_v·m + b_v)` is a constant per sentence and layer: it is
/// computed once in `begin(memory:)` and added at every token (DESIGN.md §2.5).
/// Matrices are read through `weights` (fp32, bf16 or q8).
public final class SentenceDecoderGenerator: CachedTokenStep {
    public let decoder: SentenceDecoder
    public let capacity: Int
    let caches: [KVCache]
    let attention: CachedAttention
    public let weights: InferenceWeights

    /// One decoder layer's products: q, k, v of the packed self-attention projection, its output,
    /// the value and output projections of the cross-attention, and the FFN.
    private struct LayerProducts {
        let q, k, v, out, crossValue, crossOut, linear1, linear2: InferenceLinear

        init(_ layer: TransformerDecoderLayer, _ weights: InferenceWeights) {
            func part(_ attn: MultiheadAttention, _ i: Int) -> InferenceLinear {
                let e = attn.embedDim
                return InferenceLinear(weight: weights.matrix(attn.inProjWeight).rows((i * e)..<((i + 1) * e)),
                                       bias: UnsafePointer(attn.inProjBias.data + i * e))
            }
            q = part(layer.selfAttn, 0)
            k = part(layer.selfAttn, 1)
            v = part(layer.selfAttn, 2)
            out = InferenceLinear(layer.selfAttn.outProj, weights)
            crossValue = part(layer.multiheadAttn, 2)
            crossOut = InferenceLinear(layer.multiheadAttn.outProj, weights)
            linear1 = InferenceLinear(layer.linear1, weights)
            linear2 = InferenceLinear(layer.linear2, weights)
        }
    }

    private let products: [LayerProducts]
    private let table: WeightMatrix
    private let projectIn: InferenceLinear?
    private let head: InferenceLinear
    private let crossOutputs: [UnsafeMutablePointer<Float>]
    private let x = ScratchBuffer(), q = ScratchBuffer(), attended = ScratchBuffer(), projected = ScratchBuffer(), ffn = ScratchBuffer()
    public let logits: UnsafeMutablePointer<Float>

    public init(decoder: SentenceDecoder, capacity: Int? = nil, weights: InferenceWeights = InferenceWeights()) {
        self.decoder = decoder
        self.weights = weights
        products = decoder.layers.map { LayerProducts($0, weights) }
        table = weights.matrix(decoder.embedding.embedToken.weight)
        projectIn = decoder.embedding.projectIn.map { InferenceLinear($0, weights) }
        head = InferenceLinear(decoder.linear, weights)
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
    public var length: Int { caches.isEmpty ? 0 : caches[0].length }

    /// Starts a sentence from its vector `memory` (`[hidden]`).
    public func begin(memory: UnsafePointer<Float>) {
        let width = decoder.config.hiddenSize
        let v = projected.reserve(width)
        for l in 0..<products.count {
            products[l].crossValue(memory, rows: 1, v)
            products[l].crossOut(v, rows: 1, crossOutputs[l])
        }
        for l in 0..<caches.count { caches[l].reset() }
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
        try RowOps.embed(tokens, table: table, projectIn: projectIn, scratch: projected, into: x)
        RowOps.addInPlace(x, decoder.embedding.positions.data + past * width, count: n * width)

        let q = self.q.reserve(n * width), attended = self.attended.reserve(n * width)
        let out = projected.reserve(n * max(width, embedWidth))
        for l in 0..<products.count {
            let layer = decoder.layers[l], step = products[l], cache = caches[l]
            step.q(x, rows: n, q)
            step.k(x, rows: n, cache.keys + past * width)
            step.v(x, rows: n, cache.values + past * width)
            cache.length = past + n
            attention(q: q, rows: n, cache: cache, past: past, scale: 1 / Float(attention.headDim).squareRoot(), out: attended)
            step.out(attended, rows: n, out)
            RowOps.addInPlace(x, out, count: n * width)
            RowOps.layerNorm(layer.norm1, x, rows: n)
            for r in 0..<n { RowOps.addInPlace(x + r * width, crossOutputs[l], count: width) }
            RowOps.layerNorm(layer.norm2, x, rows: n)
            RowOps.feedForward(step.linear1, step.linear2, x, rows: n, scratch: ffn, into: out)
            RowOps.addInPlace(x, out, count: n * width)
            RowOps.layerNorm(layer.norm3, x, rows: n)
        }
        head(x + (n - 1) * width, rows: 1, logits)
        return logits
    }

    /// Decodes one sentence from `memory`: BOS first, then one token per step until EOS (kept in
    /// the result) or `maxTokens` generated tokens (at most `capacity − 1`, so BOS and the sentence
    /// fit the positions). `onToken` sees each token as it comes. `ignoreEOS` decodes exactly the
    /// token limit (benchmarks with random weights, where sentences must have a fixed length).
    public func generate(memory: UnsafePointer<Float>, sampler: Sampler, maxTokens: Int? = nil, ignoreEOS: Bool = false,
                         onToken: ((Int) -> Void)? = nil) throws -> [Int] {
        var output: [Int] = []
        try generate(memory: memory, sampler: sampler, into: &output, maxTokens: maxTokens, ignoreEOS: ignoreEOS, onToken: onToken)
        return output
    }

    /// The same, into `output` (emptied first, its capacity kept): decoding into one reused array
    /// allocates nothing per sentence or token.
    public func generate(memory: UnsafePointer<Float>, sampler: Sampler, into output: inout [Int], maxTokens: Int? = nil,
                         ignoreEOS: Bool = false, onToken: ((Int) -> Void)? = nil) throws {
        begin(memory: memory)
        let config = decoder.config
        // BOS + the sentence fit in max_seq_len positions, so a generated sentence can always be
        // re-encoded ([BOS] + its tokens) without truncation.
        let limit = min(maxTokens ?? capacity - 1, capacity - 1)
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(capacity)
        var next = config.bosId
        while output.count < limit {
            let logits = try self(token: next)
            next = sampler.next(logits)
            output.append(next)
            onToken?(next)
            if next == config.eosId, !ignoreEOS { break }
        }
    }
}
