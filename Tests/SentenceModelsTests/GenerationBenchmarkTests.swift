import SentenceModels
import XCTest

/// The `bench generate` workload on tiny models: token counts, forced sentence lengths and the
/// cache-per-token slope, which for OPT is exactly 2 · layers · width · 4 bytes.
final class GenerationBenchmarkTests: XCTestCase {
    let llm = OPTConfiguration(hiddenSize: 16, ffnDim: 48, attentionHeads: 4, layers: 3, maxPositionEmbeddings: 256, vocabularySize: 64)
    /// Passages of 5 and 4 sentences ([2] + ids): prompts of 2 sentences, 3 and 2 generated.
    let passages = [[[2, 5, 6], [2, 7], [2, 8, 9, 10], [2, 11], [2, 12, 13]],
                    [[2, 14, 15, 16], [2, 17, 18], [2, 19], [2, 20, 21]]]

    func testOPTCountsAndCachePerToken() throws {
        let workload = GenerationWorkload(passages: passages + [[[2, 3]]], sentenceTokens: 4)   // the 1-sentence passage is dropped
        XCTAssertEqual(workload.passages.count, 2)
        let (model, weights) = try ModelFactory.opt(configuration: llm, weights: .random(seed: 1))
        let m = try GenerationBenchmark.run(OPTGenerator(model: model, capacity: 64, weights: weights), workload)
        XCTAssertEqual(m.inputTokens, (1 + 2 + 1) + (1 + 3 + 2))     // [2] + the prompt sentences without their 2
        XCTAssertEqual(m.outputTokens, (3 + 2) * 4)
        XCTAssertEqual(m.firstTokenSeconds.count, 2, "the warm-up passage is not counted")
        XCTAssertEqual(m.kilobytesPerToken, Double(2 * 3 * 16 * 4) / 1024, accuracy: 1e-9)
        XCTAssertGreaterThan(m.outputTokensPerSecond, 0)
    }

    func testSLLMGeneratesExactlySTokensPerSentence() throws {
        let svae = SentenceVAEConfiguration(hiddenSize: 16, vocabularySize: 64, attentionHeads: 4, layers: 1, maxSequenceLength: 32)
        let (model, weights) = try ModelFactory.sllm(svae: svae, llm: llm, weights: .random(seed: 2))
        let generator = SentenceLLMGenerator(sllm: model, capacity: 16, weights: weights)
        let m = try GenerationBenchmark.run(generator, GenerationWorkload(passages: passages, sentenceTokens: 6))
        XCTAssertEqual(m.inputTokens, (3 + 2) + (4 + 3))              // the prompt sentences, each leading 2 included
        XCTAssertEqual(m.outputTokens, (3 + 2) * 6)
        // One sentence-level KV entry per sentence: per token it is that over the sentence's tokens,
        // and the pooled fit sits between the prompt sentences' lengths and S.
        let perSentence = Double(2 * 3 * 16 * 4) / 1024
        XCTAssertLessThan(m.kilobytesPerToken, perSentence / 2)
        XCTAssertGreaterThan(m.kilobytesPerToken, perSentence / 7)
        // The decoder really ignores EOS when asked: exactly S tokens whatever the weights say.
        let sampler = try Sampler(options: .greedy, vocabulary: 64)
        try generator.prefill([[2, 5, 6]])
        XCTAssertEqual(try generator.decodeSentence(sampler: sampler, maxTokens: 9, ignoreEOS: true).count, 9)
    }
}
