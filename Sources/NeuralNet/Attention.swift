import TensorCore

/// Scaled dot-product attention over heads, and the masks it takes.
public enum Attention {
    /// The boolean mask for `[batch, 1, queries, keys]` scores: `keyPadding` (`[batch, keys]`,
    /// `true` = padding) and/or causal (`key > query + offset` excluded; `offset` = keys already
    /// cached before the first query). `nil` when nothing is masked.
    public static func mask(batch: Int, queries: Int, keys: Int, keyPadding: Mask?, causal: Bool, offset: Int = 0) throws -> Mask? {
        guard keyPadding != nil || causal else { return nil }
        if let keyPadding, keyPadding.shape != [batch, keys] {
            throw TensorError.shapeMismatch(op: "attention key padding mask (expected [batch, keys])", lhs: keyPadding.shape, rhs: [batch, keys])
        }
        var values = [Bool](repeating: false, count: batch * queries * keys)
        for b in 0..<batch {
            for q in 0..<queries {
                for k in 0..<keys {
                    let padded = keyPadding?.values[b * keys + k] ?? false
                    values[(b * queries + q) * keys + k] = padded || (causal && k > q + offset)
                }
            }
        }
        return try Mask(shape: [batch, 1, queries, keys], values: values)
    }

    /// `softmax(q·kᵀ/√d + mask)·v` for q `[B, H, Tq, D]`, k and v `[B, H, Tk, D]`.
    public static func scaledDotProduct(query: Tensor, key: Tensor, value: Tensor, mask: Mask?, dropout: DropoutContext? = nil) throws -> Tensor {
        let headDim = query.shape[query.rank - 1]
        let scores = try query.matmul(key, transposeOther: true) * (1 / Float(headDim).squareRoot())
        let weights = try mask.map { try scores.softmax(mask: $0) } ?? scores.softmax()
        return try dropout(weights).matmul(value)
    }

    /// `[B, T, H·D]` → `[B, H, T, D]`.
    static func splitHeads(_ x: Tensor, heads: Int) throws -> Tensor {
        let (b, t, e) = (x.shape[0], x.shape[1], x.shape[2])
        return try x.reshaped([b, t, heads, e / heads]).permuted([0, 2, 1, 3])
    }

    /// `[B, H, T, D]` → `[B, T, H·D]`.
    static func mergeHeads(_ x: Tensor) throws -> Tensor {
        let (b, h, t, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return try x.permuted([0, 2, 1, 3]).reshaped([b, t, h * d])
    }
}

/// PyTorch `nn.MultiheadAttention` (batch_first): packed `in_proj_weight` `[3E, E]` and
/// `in_proj_bias`, then `out_proj`.
public final class MultiheadAttention: Layer {
    public let inProjWeight: Tensor
    public let inProjBias: Tensor
    public let outProj: Linear
    public let heads: Int
    public let embedDim: Int

    public init(embedDim: Int, heads: Int, generator: inout RandomGenerator) throws {
        guard embedDim % heads == 0 else {
            throw TensorError.invalidArgument(op: "MultiheadAttention", reason: "embedDim \(embedDim) must be divisible by heads \(heads)")
        }
        // PyTorch: xavier_uniform on the packed weight, zero biases.
        let bound = (6 / Float(embedDim + 3 * embedDim)).squareRoot()
        inProjWeight = Initialization.parameter([3 * embedDim, embedDim]) {
            Tensor.uniform([3 * embedDim, embedDim], low: -bound, high: bound, generator: &generator)
        }
        inProjBias = Initialization.parameter([3 * embedDim]) { Tensor.zeros([3 * embedDim]) }
        outProj = Linear(embedDim, embedDim, generator: &generator)
        outProj.bias?.data.update(repeating: 0, count: embedDim)
        self.heads = heads
        self.embedDim = embedDim
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("in_proj_weight", inProjWeight), ("in_proj_bias", inProjBias)] + prefixed("out_proj", outProj)
    }

    /// Rows `part·E ..< (part+1)·E` of the packed projection (0 = q, 1 = k, 2 = v) as views.
    private func projection(_ x: Tensor, parts: Range<Int>) throws -> Tensor {
        let rows = (parts.lowerBound * embedDim)..<(parts.upperBound * embedDim)
        return try x.linear(weight: inProjWeight.slice(axis: 0, rows), bias: inProjBias.slice(axis: 0, rows))
    }

    /// `query` `[B, Tq, E]` attends over `keyValue` `[B, Tk, E]` (pass the same tensor for
    /// self-attention). `keyPadding` is `[B, Tk]` with `true` = padding.
    public func callAsFunction(query: Tensor, keyValue: Tensor, keyPadding: Mask? = nil, causal: Bool = false, dropout: DropoutContext? = nil) throws -> Tensor {
        let (q, k, v): (Tensor, Tensor, Tensor)
        if query === keyValue {
            let qkv = try projection(query, parts: 0..<3)
            q = try qkv.slice(axis: -1, 0..<embedDim)
            k = try qkv.slice(axis: -1, embedDim..<(2 * embedDim))
            v = try qkv.slice(axis: -1, (2 * embedDim)..<(3 * embedDim))
        } else {
            q = try projection(query, parts: 0..<1)
            let kv = try projection(keyValue, parts: 1..<3)
            k = try kv.slice(axis: -1, 0..<embedDim)
            v = try kv.slice(axis: -1, embedDim..<(2 * embedDim))
        }
        let mask = try Attention.mask(batch: query.shape[0], queries: query.shape[1], keys: keyValue.shape[1], keyPadding: keyPadding, causal: causal)
        let attended = try Attention.scaledDotProduct(
            query: Attention.splitHeads(q, heads: heads), key: Attention.splitHeads(k, heads: heads),
            value: Attention.splitHeads(v, heads: heads), mask: mask, dropout: dropout)
        return try outProj(Attention.mergeHeads(attended))
    }
}
