import NeuralNet
import TensorCore

/// The sentence encoder for inference, on raw buffers and through `weights` (fp32, bf16 or q8).
/// The tokens of all sentences are the rows of one batch for every product (no padding rows);
/// attention runs within each sentence, which is exactly what the training forward's key-padding
/// mask computes. Each sentence vector is the sum of its rows (weighted by `la` with learnable
/// add), layer-normed — the same function as `SentenceEncoder.callAsFunction`.
public final class SentenceEncoderStep {
    public let encoder: SentenceEncoder
    let attention: CachedAttention

    /// One encoder layer's products: q, k, v of the packed projection, its output, the FFN.
    private struct LayerProducts {
        let q, k, v, out, linear1, linear2: InferenceLinear

        init(_ layer: TransformerEncoderLayer, _ weights: InferenceWeights) {
            let attn = layer.selfAttn, e = attn.embedDim
            let packed = weights.matrix(attn.inProjWeight)
            func part(_ i: Int) -> InferenceLinear {
                InferenceLinear(weight: packed.rows((i * e)..<((i + 1) * e)), bias: UnsafePointer(attn.inProjBias.data + i * e))
            }
            q = part(0)
            k = part(1)
            v = part(2)
            out = InferenceLinear(attn.outProj, weights)
            linear1 = InferenceLinear(layer.linear1, weights)
            linear2 = InferenceLinear(layer.linear2, weights)
        }
    }

    private let products: [LayerProducts]
    private let table: WeightMatrix
    private let projectIn: InferenceLinear?
    private let la: InferenceLinear?
    private let x = ScratchBuffer(), q = ScratchBuffer(), k = ScratchBuffer(), v = ScratchBuffer()
    private let attended = ScratchBuffer(), projected = ScratchBuffer(), ffn = ScratchBuffer(), gates = ScratchBuffer()
    /// The batch's tokens end to end and each sentence's length, reused so encoding allocates nothing.
    private var tokens: [Int] = [], lengths: [Int] = []

    public init(encoder: SentenceEncoder, weights: InferenceWeights = InferenceWeights()) {
        self.encoder = encoder
        products = encoder.layers.map { LayerProducts($0, weights) }
        table = weights.matrix(encoder.embedding.embedToken.weight)
        projectIn = encoder.embedding.projectIn.map { InferenceLinear($0, weights) }
        la = encoder.la.map { InferenceLinear($0, weights) }
        attention = CachedAttention(heads: encoder.config.attentionHeads, width: encoder.config.hiddenSize)
    }

    /// One vector per sentence into `out` (`[sentences.count, hidden]`). Each sentence is token
    /// ids as the tokenizer gives them, at most `max_seq_len` long.
    public func encode(_ sentences: [[Int]], into out: UnsafeMutablePointer<Float>) throws {
        tokens.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        for i in 0..<sentences.count {
            tokens.append(contentsOf: sentences[i])
            lengths.append(sentences[i].count)
        }
        try encodeBatch(into: out)
    }

    /// One sentence's vector into `out` (`[hidden]`).
    public func encode(sentence: [Int], into out: UnsafeMutablePointer<Float>) throws {
        tokens.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        tokens.append(contentsOf: sentence)
        lengths.append(sentence.count)
        try encodeBatch(into: out)
    }

    /// Encodes the sentences held in `tokens`/`lengths`.
    private func encodeBatch(into out: UnsafeMutablePointer<Float>) throws {
        let config = encoder.config, width = config.hiddenSize
        for s in 0..<lengths.count where lengths[s] > config.maxSequenceLength {
            throw TensorError.invalidArgument(op: "sentence model", reason: "sequence of \(lengths[s]) tokens exceeds max_seq_len \(config.maxSequenceLength); truncate the input")
        }
        let n = tokens.count
        let x = self.x.reserve(max(n, 1) * width)
        try tokens.withUnsafeBufferPointer { try RowOps.embed($0, table: table, projectIn: projectIn, scratch: self.projected, into: x) }
        let positions = encoder.embedding.positions.data
        var first = 0
        for s in 0..<lengths.count {
            RowOps.addInPlace(x + first * width, positions, count: lengths[s] * width)
            first += lengths[s]
        }

        let q = self.q.reserve(max(n, 1) * width), k = self.k.reserve(max(n, 1) * width), v = self.v.reserve(max(n, 1) * width)
        let attended = self.attended.reserve(max(n, 1) * width), projected = self.projected.reserve(max(n, 1) * width)
        let scale = 1 / Float(attention.headDim).squareRoot()
        for l in 0..<products.count where n > 0 {
            let layer = encoder.layers[l], step = products[l]
            step.q(x, rows: n, q)
            step.k(x, rows: n, k)
            step.v(x, rows: n, v)
            var first = 0
            for s in 0..<lengths.count {
                let length = lengths[s], o = first * width
                if length > 0 { attention(q: q + o, rows: length, keys: k + o, values: v + o, past: 0, causal: false, scale: scale, out: attended + o) }
                first += length
            }
            step.out(attended, rows: n, projected)
            RowOps.addInPlace(x, projected, count: n * width)
            RowOps.layerNorm(layer.norm1, x, rows: n)
            RowOps.feedForward(step.linear1, step.linear2, x, rows: n, scratch: ffn, into: projected)
            RowOps.addInPlace(x, projected, count: n * width)
            RowOps.layerNorm(layer.norm2, x, rows: n)
        }

        // Pooling: Σ_t h_t, or Σ_t h_t·(w·h_t + b) with learnable add.
        let gate = gates.reserve(max(n, 1))
        if let la, n > 0 { la(x, rows: n, gate) }
        first = 0
        for i in 0..<lengths.count {
            let length = lengths[i], row = out + i * width
            row.update(repeating: 0, count: width)
            defer { first += length }
            for t in first..<(first + length) {
                let h = x + t * width
                if la != nil {
                    let g = gate[t]
                    for d in 0..<width { row[d] += h[d] * g }
                } else {
                    RowOps.addInPlace(row, h, count: width)
                }
            }
        }
        RowOps.layerNorm(encoder.lnorm, out, rows: lengths.count)
    }
}
