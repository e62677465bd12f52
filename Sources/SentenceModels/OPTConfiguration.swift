/// The fields of an HF OPT `config.json` that the model needs.
public struct OPTConfiguration: Equatable, Sendable {
    public var hiddenSize: Int
    public var ffnDim: Int
    public var attentionHeads: Int
    public var layers: Int
    public var maxPositionEmbeddings: Int
    /// Token-embedding width; `project_in`/`project_out` map to/from `hiddenSize` when different (350m).
    public var wordEmbedProjectionDim: Int
    /// Pre-LN with a final LayerNorm (125m, 1.3b) or post-LN without it (350m).
    public var layerNormBefore: Bool
    public var vocabularySize: Int
    public var padId: Int
    public var bosId: Int
    public var eosId: Int
    public var dropout: Float

    public init(hiddenSize: Int, ffnDim: Int, attentionHeads: Int, layers: Int, maxPositionEmbeddings: Int = 2048,
                wordEmbedProjectionDim: Int? = nil, layerNormBefore: Bool = true, vocabularySize: Int = 50272,
                padId: Int = 1, bosId: Int = 2, eosId: Int = 2, dropout: Float = 0.1) {
        self.hiddenSize = hiddenSize
        self.ffnDim = ffnDim
        self.attentionHeads = attentionHeads
        self.layers = layers
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.wordEmbedProjectionDim = wordEmbedProjectionDim ?? hiddenSize
        self.layerNormBefore = layerNormBefore
        self.vocabularySize = vocabularySize
        self.padId = padId
        self.bosId = bosId
        self.eosId = eosId
        self.dropout = dropout
    }
}
