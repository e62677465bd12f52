import SentenceModels
import TensorCore

/// Greedy reconstructions counted: sentences, those given back exactly, target tokens, and those
/// the output has at the same position.
public struct ReconstructionCounts: Sendable {
    public var sentences = 0
    public var exact = 0
    public var tokens = 0
    public var correctTokens = 0

    public var exactMatch: Double { sentences > 0 ? Double(exact) / Double(sentences) : .nan }
    public var tokenAccuracy: Double { tokens > 0 ? Double(correctTokens) / Double(tokens) : .nan }

    mutating func add(target: [Int], output: [Int]) {
        sentences += 1
        tokens += target.count
        correctTokens += zip(target, output).filter { $0 == $1 }.count
        if output == target { exact += 1 }
    }
}

/// How well a SentenceVAE gives its sentences back: each sentence is encoded to its vector and
/// decoded greedily from it (free-running, as `svae` does), and the output is compared with the
/// sentence's tokens after `</s>` followed by EOS — what training teaches it to produce.
public struct ReconstructionResult: Sendable {
    public var total = ReconstructionCounts()
    /// The same counts by target length (EOS included), one per `lengthBuckets` entry: where a
    /// sentence vector stops holding its sentence.
    public var byLength = Array(repeating: ReconstructionCounts(), count: lengthBuckets.count)
    /// Upper bounds (inclusive) of the length buckets; the last is open-ended.
    public static let lengthBuckets = [4, 8, 16, Int.max]

    /// The range of target lengths bucket `i` holds, e.g. "5-8" or "17+".
    public static func bucketName(_ i: Int) -> String {
        let low = i == 0 ? 1 : lengthBuckets[i - 1] + 1
        return lengthBuckets[i] == Int.max ? "\(low)+" : "\(low)-\(lengthBuckets[i])"
    }

    mutating func add(target: [Int], output: [Int]) {
        total.add(target: target, output: output)
        byLength[Self.lengthBuckets.firstIndex { target.count <= $0 }!].add(target: target, output: output)
    }
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
                result.add(target: target, output: output)
                onSentence?(ids, output)
            }
        }
        return result
    }
}
