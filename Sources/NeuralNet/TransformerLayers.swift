import TensorCore

/// PyTorch `nn.TransformerEncoderLayer` as the original configures it: post-norm (norm_first
/// False), ReLU, FFN width `ffnDim`, LayerNorm eps 1e-5, batch_first.
public final class TransformerEncoderLayer: Layer {
    public let selfAttn: MultiheadAttention
    public let linear1, linear2: Linear
    public let norm1, norm2: LayerNorm

    public init(dim: Int, heads: Int, ffnDim: Int, eps: Float = 1e-5, generator: inout RandomGenerator) throws {
        selfAttn = try MultiheadAttention(embedDim: dim, heads: heads, generator: &generator)
        linear1 = Linear(dim, ffnDim, generator: &generator)
        linear2 = Linear(ffnDim, dim, generator: &generator)
        norm1 = LayerNorm(dim, eps: eps)
        norm2 = LayerNorm(dim, eps: eps)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("self_attn", selfAttn) + prefixed("linear1", linear1) + prefixed("linear2", linear2)
            + prefixed("norm1", norm1) + prefixed("norm2", norm2)
    }

    /// `x` `[B, T, E]`; `keyPadding` `[B, T]`, `true` = padding.
    public func callAsFunction(_ x: Tensor, keyPadding: Mask? = nil, dropout: DropoutContext? = nil) throws -> Tensor {
        let attended = try selfAttn(query: x, keyValue: x, keyPadding: keyPadding, dropout: dropout)
        let h = try norm1(x + dropout(attended))
        let ffn = try linear2(dropout(linear1(h).relu()))
        return try norm2(h + dropout(ffn))
    }
}

/// PyTorch `nn.TransformerDecoderLayer`, post-norm, ReLU: causal self-attention, cross-attention
/// over `memory`, FFN — each followed by residual add and LayerNorm.
public final class TransformerDecoderLayer: Layer {
    public let selfAttn, multiheadAttn: MultiheadAttention
    public let linear1, linear2: Linear
    public let norm1, norm2, norm3: LayerNorm

    public init(dim: Int, heads: Int, ffnDim: Int, eps: Float = 1e-5, generator: inout RandomGenerator) throws {
        selfAttn = try MultiheadAttention(embedDim: dim, heads: heads, generator: &generator)
        multiheadAttn = try MultiheadAttention(embedDim: dim, heads: heads, generator: &generator)
        linear1 = Linear(dim, ffnDim, generator: &generator)
        linear2 = Linear(ffnDim, dim, generator: &generator)
        norm1 = LayerNorm(dim, eps: eps)
        norm2 = LayerNorm(dim, eps: eps)
        norm3 = LayerNorm(dim, eps: eps)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("self_attn", selfAttn) + prefixed("multihead_attn", multiheadAttn)
            + prefixed("linear1", linear1) + prefixed("linear2", linear2)
            + prefixed("norm1", norm1) + prefixed("norm2", norm2) + prefixed("norm3", norm3)
    }

    /// `x` `[B, T, E]`, `memory` `[B, M, E]`; `keyPadding` `[B, T]` masks padded target tokens.
    public func callAsFunction(_ x: Tensor, memory: Tensor, keyPadding: Mask? = nil, dropout: DropoutContext? = nil) throws -> Tensor {
        let attended = try selfAttn(query: x, keyValue: x, keyPadding: keyPadding, causal: true, dropout: dropout)
        var h = try norm1(x + dropout(attended))
        let crossed = try multiheadAttn(query: h, keyValue: memory, dropout: dropout)
        h = try norm2(h + dropout(crossed))
        let ffn = try linear2(dropout(linear1(h).relu()))
        return try norm3(h + dropout(ffn))
    }
}
