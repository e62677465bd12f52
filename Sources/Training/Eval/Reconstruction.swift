import SentenceModels
import TensorCore

/// How well a SentenceVAE gives its sentences back: each sentence is encoded to its vector and
/// decoded greedily from it (free-running, as `svae` does), and the output is compared with the
/// sentence's tokens after `</s>` followed by EOS — what training teaches it to produce.
public struct ReconstructionResult: Sendable {
    public var sentences = 0
    /// Sentences whose greedy output equals the target exactly.
    public var exact = 0
    /// Target tokens, and those the output has at the same position.
    public var tokens = 0
    public var correctTokens = 0

    public var exactMatch: Double { sentences > 0 ? Double(exact) / Double(sentences) : .nan }
    public var tokenAccuracy: Double { tokens > 0 ? Double(correctTokens) / Double(tokens) : .nan }
}

public enum Reconstruction {
    /// `onSentence` receives each sentence's input ids and output ids (for printing examples).
    public static func evaluate(_ model: SentenceVAE, batches: [TokenBatch],
                                onSentence: (([Int], [Int]) -> Void)? = nil) throws -> ReconstructionResult {
        var result = ReconstructionResult()
        let generator = SentenceDecoderGenerator(decoder: model.decoder)
        let sampler = try Sampler(options: .greedy, vocabulary: model.config.vocabularySize)
        let hidden = model.config.hiddenSize
        for batch in batches {
            let vectors = try withNoGrad { try model.encoder(batch) }
            for (row, length) in batch.lengths.enumerated() {
                let ids = Array(batch.ids[(row * batch.length)..<(row * batch.length + length)])
                let target = Array(ids.dropFirst()) + [model.config.eosId]
                let output = try generator.generate(memory: vectors.data + row * hidden, sampler: sampler, maxTokens: target.count + 8)
                result.sentences += 1
                result.tokens += target.count
                result.correctTokens += zip(target, output).filter { $0 == $1 }.count
                if output == target { result.exact += 1 }
                onSentence?(ids, output)
            }
        }
        return result
    }
}
