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
        let config = encoder.config, width = config.hiddenSize
        if let long = sentences.first(where: { $0.count > config.maxSequenceLength }) {
            throw TensorError.invalidArgument(op: "sentence model", reason: "sequence of \(long.count) tokens exceeds max_seq_len \(config.maxSequenceLength); truncate the input")
        }
        let tokens = sentences.flatMap { $0 }
        let n = tokens.count
        var starts: [Int] = [], start = 0
        for s in sentences { starts.append(start); start += s.count }

        let x = self.x.reserve(max(n, 1) * width)
        try tokens.withUnsafeBufferPointer { try RowOps.embed($0, table: table, projectIn: projectIn, scratch: self.projected, into: x) }
        let positions = encoder.embedding.positions.data
        for (s, first) in zip(sentences, starts) { RowOps.addInPlace(x + first * width, positions, count: s.count * width) }

        let q = self.q.reserve(max(n, 1) * width), k = self.k.reserve(max(n, 1) * width), v = self.v.reserve(max(n, 1) * width)
        let attended = self.attended.reserve(max(n, 1) * width), projected = self.projected.reserve(max(n, 1) * width)
        let scale = 1 / Float(attention.headDim).squareRoot()
        for (layer, step) in zip(encoder.layers, products) where n > 0 {
            step.q(x, rows: n, q)
            step.k(x, rows: n, k)
            step.v(x, rows: n, v)
            for (s, first) in zip(sentences, starts) where !s.isEmpty {
                let o = first * width
                attention(q: q + o, rows: s.count, keys: k + o, values: v + o, past: 0, causal: false, scale: scale, out: attended + o)
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
        for (i, (s, first)) in zip(sentences, starts).enumerated() {
            let row = out + i * width
            row.update(repeating: 0, count: width)
            for t in first..<(first + s.count) {
                let h = x + t * width
                if la != nil {
                    let g = gate[t]
                    for d in 0..<width { row[d] += h[d] * g }
                } else {
                    RowOps.addInPlace(row, h, count: width)
                }
            }
        }
        RowOps.layerNorm(encoder.lnorm, out, rows: sentences.count)
    }
}
