import TensorCore

/// HF `OPTAttention`: separate q/k/v/out projections with biases.
public final class OPTAttention: Layer {
    public let qProj, kProj, vProj, outProj: Linear
    public let heads: Int

    public init(dim: Int, heads: Int, generator: inout RandomGenerator) throws {
        guard dim % heads == 0 else {
            throw TensorError.invalidArgument(op: "OPTAttention", reason: "hidden size \(dim) must be divisible by heads \(heads)")
        }
        qProj = Linear(dim, dim, generator: &generator)
        kProj = Linear(dim, dim, generator: &generator)
        vProj = Linear(dim, dim, generator: &generator)
        outProj = Linear(dim, dim, generator: &generator)
        self.heads = heads
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("k_proj", kProj) + prefixed("v_proj", vProj) + prefixed("q_proj", qProj) + prefixed("out_proj", outProj)
    }

    /// Causal self-attention over `x` `[B, T, E]`; `keyPadding` `[B, T]`, `true` = padding.
    public func callAsFunction(_ x: Tensor, keyPadding: Mask? = nil, dropout: DropoutContext? = nil) throws -> Tensor {
        let mask = try Attention.mask(batch: x.shape[0], queries: x.shape[1], keys: x.shape[1], keyPadding: keyPadding, causal: true)
        let attended = try Attention.scaledDotProduct(
            query: Attention.splitHeads(qProj(x), heads: heads), key: Attention.splitHeads(kProj(x), heads: heads),
            value: Attention.splitHeads(vProj(x), heads: heads), mask: mask, dropout: dropout)
        return try outProj(Attention.mergeHeads(attended))
    }
}

/// HF `OPTDecoderLayer`: pre-LN (`do_layer_norm_before`, 125m/1.3b) or post-LN (350m), ReLU FFN.
public final class OPTDecoderLayer: Layer {
    public let selfAttn: OPTAttention
    public let selfAttnLayerNorm, finalLayerNorm: LayerNorm
    public let fc1, fc2: Linear
    public let layerNormBefore: Bool

    public init(dim: Int, heads: Int, ffnDim: Int, layerNormBefore: Bool, generator: inout RandomGenerator) throws {
        selfAttn = try OPTAttention(dim: dim, heads: heads, generator: &generator)
        selfAttnLayerNorm = LayerNorm(dim)
        finalLayerNorm = LayerNorm(dim)
        fc1 = Linear(dim, ffnDim, generator: &generator)
        fc2 = Linear(ffnDim, dim, generator: &generator)
        self.layerNormBefore = layerNormBefore
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("self_attn", selfAttn) + prefixed("self_attn_layer_norm", selfAttnLayerNorm)
            + prefixed("fc1", fc1) + prefixed("fc2", fc2) + prefixed("final_layer_norm", finalLayerNorm)
    }

    public func callAsFunction(_ x: Tensor, keyPadding: Mask? = nil, dropout: DropoutContext? = nil) throws -> Tensor {
        var h = layerNormBefore ? try selfAttnLayerNorm(x) : x
        h = try x + dropout(selfAttn(h, keyPadding: keyPadding, dropout: dropout))
        if !layerNormBefore { h = try selfAttnLayerNorm(h) }
        let residual = h
        if layerNormBefore { h = try finalLayerNorm(h) }
        h = try residual + dropout(fc2(fc1(h).relu()))
        return layerNormBefore ? h : try finalLayerNorm(h)
    }
}
