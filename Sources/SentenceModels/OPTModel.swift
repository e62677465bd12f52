import NeuralNet
import TensorCore

/// HF `OPTForCausalLM`: token embedding (+ `project_in`) + learned positions → decoder layers →
/// final LayerNorm (pre-LN shapes) → `project_out` → LM head tied to the token embedding.
public final class OPTModel: Layer {
    public let config: OPTConfiguration
    public let embedTokens: Embedding
    public let embedPositions: OPTLearnedPositions
    public let projectIn, projectOut: Linear?
    public let layers: [OPTDecoderLayer]
    public let finalLayerNorm: LayerNorm?

    public init(config: OPTConfiguration, seed: UInt64 = 0) throws {
        var generator = RandomGenerator(seed: seed)
        self.config = config
        embedTokens = Embedding(config.vocabularySize, config.wordEmbedProjectionDim, paddingIndex: config.padId, generator: &generator)
        embedPositions = OPTLearnedPositions(maxPositions: config.maxPositionEmbeddings, dim: config.hiddenSize, generator: &generator)
        let projected = config.wordEmbedProjectionDim != config.hiddenSize
        projectIn = projected ? Linear(config.wordEmbedProjectionDim, config.hiddenSize, bias: false, generator: &generator) : nil
        projectOut = projected ? Linear(config.hiddenSize, config.wordEmbedProjectionDim, bias: false, generator: &generator) : nil
        layers = try (0..<config.layers).map { _ in
            try OPTDecoderLayer(dim: config.hiddenSize, heads: config.attentionHeads, ffnDim: config.ffnDim,
                                layerNormBefore: config.layerNormBefore, generator: &generator)
        }
        finalLayerNorm = config.layerNormBefore ? LayerNorm(config.hiddenSize) : nil
    }

    /// Names as in `OPTForCausalLM.state_dict()` minus the tied `lm_head.weight`.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var p = prefixed("model.decoder.embed_tokens", embedTokens) + prefixed("model.decoder.embed_positions", embedPositions)
        if let projectIn { p += prefixed("model.decoder.project_in", projectIn) }
        if let projectOut { p += prefixed("model.decoder.project_out", projectOut) }
        if let finalLayerNorm { p += prefixed("model.decoder.final_layer_norm", finalLayerNorm) }
        for (i, layer) in layers.enumerated() { p += prefixed("model.decoder.layers.\(i)", layer) }
        return p
    }

    /// Loads an `OPTForCausalLM` state dict, or an `OPTModel` one (keys without `model.`, as the
    /// `facebook/opt-*` `pytorch_model.bin` files have).
    public func load(weights: [String: Tensor]) throws {
        let bare = weights.keys.contains("decoder.embed_tokens.weight") && !weights.keys.contains("model.decoder.embed_tokens.weight")
        if bare {
            var renamed: [String: Tensor] = [:]
            for (k, v) in weights { renamed[k.hasPrefix("decoder.") ? "model." + k : k] = v }
            try load(renamed)
        } else {
            try load(weights)
        }
    }

    /// Final hidden states before the LM head: `[batch, length, wordEmbedProjectionDim]`.
    public func hiddenStates(_ tokens: TokenBatch, dropout: DropoutContext? = nil) throws -> Tensor {
        var h = try embedTokens(tokens.ids, shape: [tokens.batch, tokens.length])
        if let projectIn { h = try projectIn(h) }
        h = try h + embedPositions(mask: tokens.mask, batch: tokens.batch, length: tokens.length)
        h = try dropout(h)
        let padding = tokens.paddingMask
        for layer in layers { h = try layer(h, keyPadding: padding, dropout: dropout) }
        if let finalLayerNorm { h = try finalLayerNorm(h) }
        if let projectOut { h = try projectOut(h) }
        return h
    }

    /// Next-token logits `[batch, length, vocabulary]` (LM head tied to the token embedding).
    public func callAsFunction(_ tokens: TokenBatch, dropout: DropoutContext? = nil) throws -> Tensor {
        try hiddenStates(tokens, dropout: dropout).linear(weight: embedTokens.weight)
    }
}
