/// Sizes and special ids of a SentenceVAE, as the original's SVAE configs give them (with the
/// reference OPT model's `config.json` supplying hidden size, heads, vocabulary and ids).
public struct SentenceVAEConfiguration: Equatable, Sendable {
    public var hiddenSize: Int
    public var vocabularySize: Int
    /// Width of the token embedding; `project_in` maps it to `hiddenSize` when they differ (OPT-350m).
    public var wordEmbedProjectionDim: Int
    public var attentionHeads: Int
    public var layers: Int
    public var maxSequenceLength: Int
    /// Pooling: `false` = plain sum over tokens (every shipped config), `true` = learnable add.
    public var learnableAdd: Bool
    public var dropout: Float
    public var padId: Int
    public var bosId: Int
    public var eosId: Int

    public init(hiddenSize: Int, vocabularySize: Int, wordEmbedProjectionDim: Int? = nil, attentionHeads: Int,
                layers: Int, maxSequenceLength: Int = 512, learnableAdd: Bool = false, dropout: Float = 0.1,
                padId: Int = 1, bosId: Int = 2, eosId: Int = 2) {
        self.hiddenSize = hiddenSize
        self.vocabularySize = vocabularySize
        self.wordEmbedProjectionDim = wordEmbedProjectionDim ?? hiddenSize
        self.attentionHeads = attentionHeads
        self.layers = layers
        self.maxSequenceLength = maxSequenceLength
        self.learnableAdd = learnableAdd
        self.dropout = dropout
        self.padId = padId
        self.bosId = bosId
        self.eosId = eosId
    }

    /// FFN width of the sentence encoder/decoder layers: 2 × hidden, as in the original.
    public var ffnDim: Int { 2 * hiddenSize }
}
