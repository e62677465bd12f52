import ModelIO

extension OPTConfiguration {
    /// From an HF `config.json`.
    public init(_ hf: OPTConfig) {
        self.init(hiddenSize: hf.hiddenSize, ffnDim: hf.ffnDim, attentionHeads: hf.numAttentionHeads, layers: hf.numHiddenLayers,
                  maxPositionEmbeddings: hf.maxPositionEmbeddings, wordEmbedProjectionDim: hf.wordEmbedProjDim,
                  layerNormBefore: hf.doLayerNormBefore, vocabularySize: hf.vocabSize, padId: hf.padTokenId,
                  bosId: hf.bosTokenId, eosId: hf.eosTokenId, dropout: Float(hf.dropout))
    }
}

extension SentenceVAEConfiguration {
    /// As the original's demo/train scripts build a SentenceVAE: sizes and ids from the reference
    /// OPT's `config.json`, depth, pooling and length from the YAML. The standalone SVAE embeds at
    /// the hidden size (the original passes no `word_embed_proj_dim` there); the SLLM's SVAE uses
    /// the reference model's `word_embed_proj_dim` (`projectedEmbedding`).
    public init(reference: OPTConfig, layers: Int, learnableAdd: Bool, maxSequenceLength: Int, projectedEmbedding: Bool = false) {
        self.init(hiddenSize: reference.hiddenSize, vocabularySize: reference.vocabSize,
                  wordEmbedProjectionDim: projectedEmbedding ? reference.wordEmbedProjDim : reference.hiddenSize,
                  attentionHeads: reference.numAttentionHeads, layers: layers, maxSequenceLength: maxSequenceLength,
                  learnableAdd: learnableAdd, dropout: Float(reference.dropout), padId: reference.padTokenId,
                  bosId: reference.bosTokenId, eosId: reference.eosTokenId)
    }
}
