import Foundation
import TestSupport
import XCTest
import NeuralNet
import TensorCore
@testable import SentenceModels

/// Cached generation (KV caches, constant cross-attention) against the uncached models, step by
/// step, and greedy decodes against PyTorch's.
final class CachedGenerationTests: XCTestCase {
    private typealias G = ModelGoldenTests

    private func loadedSVAE(_ name: String) throws -> (SentenceVAE, [String: Any]) {
        let c = G.goldens[name] as! [String: Any]
        let svae = try SentenceVAE(config: SentenceVAEConfiguration(
            hiddenSize: 16, vocabularySize: 64, wordEmbedProjectionDim: (c["word_embed_proj_dim"] as! NSNumber).intValue,
            attentionHeads: 4, layers: (c["layers"] as! NSNumber).intValue, maxSequenceLength: 32,
            learnableAdd: c["learnable_add"] as! Bool))
        let w = try G.weights(c["encoder"]!, prefix: "encoder.").merging(G.weights(c["decoder"]!, prefix: "decoder.")) { a, _ in a }
        try svae.load(w)
        return (svae, c)
    }

    func testSentenceDecoderCachedEqualsUncachedAndPyTorchGreedy() throws {
        for name in ["plain_sum", "learnable_add", "project_in"] {
            let (svae, c) = try loadedSVAE(name)
            let expectedGreedy = (c["greedy"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            let vectors = try withNoGrad { try svae.encoder(G.batch) }
            let generator = SentenceDecoderGenerator(decoder: svae.decoder)
            let sampler = try Sampler(options: .greedy, vocabulary: 64)
            for b in 0..<3 {
                let memory = vectors.data + b * 16
                // Step by step: cached logits = uncached logits at the last position.
                generator.begin(memory: memory)
                var sequence = [svae.config.bosId]
                for _ in 0..<12 {
                    let cached = Array(UnsafeBufferPointer(start: try generator([sequence.last!]), count: 64))
                    let uncached = try withNoGrad { () throws -> [Float] in
                        let tokens = try TokenBatch(sequences: [sequence], padId: 1)
                        let logits = try svae.decoder(tokens, memory: vectors.slice(axis: 0, b..<(b + 1)))
                        return Array(logits.values.suffix(64))
                    }
                    assertClose(cached, uncached, "\(name) row \(b) step \(sequence.count)")
                    sequence.append(Sampler.argmax(cached, count: 64))
                }
                XCTAssertEqual(Array(sequence.dropFirst()), expectedGreedy[b], "\(name) row \(b): greedy equals PyTorch")
                // generate() with a cap far below EOS gives the same prefix, capped.
                let capped = try generator.generate(memory: memory, sampler: sampler, maxTokens: 5)
                XCTAssertEqual(capped, Array(expectedGreedy[b].prefix(while: { $0 != 2 }).prefix(5)) + (expectedGreedy[b].prefix(5).contains(2) ? [2] : []))
            }
        }
    }

    func testOPTCachedEqualsUncachedAndHFGreedy() throws {
        for name in ["opt_pre_ln", "opt_post_ln"] {
            let c = G.goldens[name] as! [String: Any]
            let cfg = c["config"] as! [String: Any]
            let opt = try OPTModel(config: OPTConfiguration(
                hiddenSize: 16, ffnDim: 48, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 40,
                wordEmbedProjectionDim: (cfg["word_embed_proj_dim"] as! NSNumber).intValue,
                layerNormBefore: cfg["layer_norm_before"] as! Bool, vocabularySize: 64))
            try opt.load(weights: G.weights(c["params"]!))
            let prompt = Array(G.batch.ids.prefix(6))
            let generator = OPTGenerator(model: opt)
            var sequence = prompt
            var logits = try generator(prompt)
            for _ in 0..<8 {
                let cached = Array(UnsafeBufferPointer(start: logits, count: 64))
                let uncached = try withNoGrad { Array(try opt(TokenBatch(sequences: [sequence], padId: 1)).values.suffix(64)) }
                assertClose(cached, uncached, "\(name) step \(sequence.count)")
                sequence.append(Sampler.argmax(cached, count: 64))
                logits = try generator([sequence.last!])
            }
            XCTAssertEqual(Array(sequence.dropFirst(6)), (c["greedy"] as! [NSNumber]).map(\.intValue), "\(name): greedy equals the HF argmax loop")
            XCTAssertThrowsError(try generator([64])) { error in
                XCTAssertEqual("\(error)", "token id 64 is out of range for a vocabulary of 64 tokens (valid ids: 0...63)")
            }
        }
    }

    func testCapacityIsEnforced() throws {
        let opt = try OPTModel(config: OPTConfiguration(hiddenSize: 16, ffnDim: 32, attentionHeads: 2, layers: 1,
                                                        maxPositionEmbeddings: 8, vocabularySize: 20))
        let generator = OPTGenerator(model: opt)
        try generator(Array(repeating: 5, count: 8))
        XCTAssertThrowsError(try generator([5])) { error in
            XCTAssertTrue("\(error)".contains("exceed the limit of 8"), "\(error)")
        }
        generator.reset()
        XCTAssertNoThrow(try generator([5]))
    }

    func testSamplingIsSeededAndRespectsTopK() throws {
        var logits = [Float](repeating: 0, count: 100)
        for i in 0..<100 { logits[i] = Float(i % 10) }
        func draws(_ options: SamplingOptions) throws -> [Int] {
            let sampler = try Sampler(options: options, vocabulary: 100)
            return (0..<200).map { _ in sampler.next(logits) }
        }
        let a = try draws(SamplingOptions(temperature: 1, seed: 3))
        XCTAssertEqual(a, try draws(SamplingOptions(temperature: 1, seed: 3)))
        XCTAssertNotEqual(a, try draws(SamplingOptions(temperature: 1, seed: 4)))
        // Top-k 10 keeps exactly the ten logits equal to 9.
        XCTAssertTrue(try draws(SamplingOptions(temperature: 1, topK: 10, seed: 1)).allSatisfy { $0 % 10 == 9 })
        // Top-p small keeps only the best logit (ties: lowest id first).
        XCTAssertEqual(Set(try draws(SamplingOptions(temperature: 1, topP: 0.01, seed: 1))), [9])
        XCTAssertThrowsError(try Sampler(options: SamplingOptions(temperature: -1), vocabulary: 10))
        XCTAssertThrowsError(try Sampler(options: SamplingOptions(topP: 0), vocabulary: 10))
    }

    /// The stop decision: greedy takes the likelier class; sampling draws it at the softmax's rate
    /// (logits 0 and ln 3 → class 1 with probability 3/4 at temperature 1, 0.9 at temperature 0.5).
    /// transformers' repetition_penalty: a seen token's positive logit is divided, a negative one
    /// multiplied; picked tokens join the text, the exempt token never is penalised, 1 is off.
    func testRepetitionPenalty() throws {
        let flat: [Float] = [2, 1.9, -1, -1.2]
        let sampler = try Sampler(options: SamplingOptions(repetitionPenalty: 2), vocabulary: 4)
        XCTAssertEqual(sampler.next(flat), 0)   // nothing seen yet
        XCTAssertEqual(sampler.next(flat), 1)   // 0 is now 2 / 2 = 1 < 1.9
        XCTAssertEqual(sampler.next(flat), 0)   // both seen: 1 against 0.95
        sampler.forgetHistory()
        XCTAssertEqual(sampler.next(flat), 0)
        sampler.forgetHistory()
        sampler.remember([1])
        XCTAssertEqual(sampler.next([-1.5, -1, -2.5, -2.4]), 0)   // 1 was best; -1 · 2 = -2 < -1.5
        sampler.forgetHistory()
        sampler.remember(2)
        XCTAssertEqual(sampler.next([-1.5, -9, -1, -9]), 0)   // -1 · 2 = -2 < -1.5
        sampler.exempt = 2
        XCTAssertEqual(sampler.next([-1.5, -9, -1, -9]), 2)   // exempt: -1 stays
        let off = try Sampler(options: .greedy, vocabulary: 4)
        off.remember([0, 1])
        XCTAssertEqual(off.next(flat), 0)
        XCTAssertEqual(off.next(flat), 0)
        for bad: Float in [0, -1, .infinity, .nan] {
            XCTAssertThrowsError(try Sampler(options: SamplingOptions(repetitionPenalty: bad), vocabulary: 4), "\(bad)")
        }
    }

    /// transformers' no_repeat_ngram_size: the token that would complete an n-gram already in the
    /// text is banned; the exempt token never is; when the bans leave nothing they are lifted.
    func testNoRepeatNgrams() throws {
        var logits = [Float](repeating: 0, count: 10)
        logits[7] = 5
        logits[8] = 4
        let sampler = try Sampler(options: SamplingOptions(noRepeatNgramSize: 3), vocabulary: 10)
        sampler.remember([5, 6, 7, 5, 6])
        XCTAssertEqual(sampler.next(logits), 8)   // 5 6 7 is in the text
        XCTAssertEqual(sampler.next(logits), 7)   // 6 8 7 is not
        sampler.forgetHistory()
        sampler.remember([5, 6, 7, 5, 6])
        sampler.exempt = 7
        XCTAssertEqual(sampler.next(logits), 7)
        let unigrams = try Sampler(options: SamplingOptions(noRepeatNgramSize: 1), vocabulary: 2)
        unigrams.remember([1])
        XCTAssertEqual(unigrams.next([0, 1]), 0)   // 1 is banned
        XCTAssertEqual(unigrams.next([0, 1]), 1)   // both banned: the bans are lifted
        XCTAssertThrowsError(try Sampler(options: SamplingOptions(noRepeatNgramSize: -1), vocabulary: 4))
    }

    func testStopChoiceIsArgmaxOrADrawAtTheTemperature() throws {
        let logits: [Float] = [0, Float(log(3.0))]
        XCTAssertEqual(try Sampler(options: .greedy, vocabulary: 10).choose(logits, count: 2), 1)
        XCTAssertEqual(try Sampler(options: .greedy, vocabulary: 10).choose([1, 1], count: 2), 0)
        for (temperature, expected) in [(Float(1), 0.75), (0.5, 0.9)] {
            let sampler = try Sampler(options: SamplingOptions(temperature: temperature, seed: 5), vocabulary: 10)
            let n = 20_000
            let ones = (0..<n).filter { _ in sampler.choose(logits, count: 2) == 1 }.count
            XCTAssertEqual(Double(ones) / Double(n), expected, accuracy: 0.015, "temperature \(temperature)")
        }
    }

    /// The sampler ranks only its top k (a heap): the same draws as ranking the whole vocabulary
    /// with a sort (best first, ties by lower id) and applying the same cut, softmax and draw.
    func testTopKRankingMatchesAFullSort() throws {
        var g = RandomGenerator(seed: 9)
        let vocabulary = 300
        // Coarse logits, so many tie.
        let logits = (0..<vocabulary).map { _ in Float(Int(g.nextUniform() * 40)) / 8 }
        func reference(_ o: SamplingOptions, draws: Int) -> [Int] {
            var rng = RandomGenerator(seed: o.seed)
            let scaled = logits.map { $0 / o.temperature }
            let ranked = (0..<vocabulary).sorted { scaled[$0] > scaled[$1] || (scaled[$0] == scaled[$1] && $0 < $1) }
            var candidates = o.topK > 0 ? min(o.topK, vocabulary) : vocabulary
            let top = scaled[ranked[0]]
            var e = ranked.prefix(candidates).map { Float(exp(Double(scaled[$0] - top))) }
            var total = e.reduce(0, +)
            if o.topP < 1 {
                var mass: Float = 0, kept = 0
                while kept < candidates && mass < o.topP * total { mass += e[kept]; kept += 1 }
                candidates = max(kept, 1); total = mass; e = Array(e.prefix(candidates))
            }
            return (0..<draws).map { _ in
                var u = rng.nextUniform() * total
                for i in 0..<candidates { u -= e[i]; if u < 0 { return ranked[i] } }
                return ranked[candidates - 1]
            }
        }
        for (k, topP) in [(1, Float(1)), (5, 1), (37, 1), (299, 1), (0, 0.5), (12, 0.7), (0, 0.95)] {
            let options = SamplingOptions(temperature: 0.8, topK: k, topP: topP, seed: UInt64(k) + 1)
            let sampler = try Sampler(options: options, vocabulary: vocabulary)
            let ours = (0..<50).map { _ in sampler.next(logits) }
            XCTAssertEqual(ours, reference(options, draws: 50), "top-k \(k), top-p \(topP)")
        }
    }
}

/// The SLLM's cached sentence loop against the uncached model run over the whole passage.
final class SentenceLLMGenerationTests: XCTestCase {
    private typealias G = ModelGoldenTests

    func testCutPassagesAreTaughtToContinueAtTheirLastSentence() throws {
        let sllm = try SentenceLLM(
            svae: SentenceVAEConfiguration(hiddenSize: 16, vocabularySize: 64, attentionHeads: 4, layers: 1, maxSequenceLength: 32),
            llm: OPTConfiguration(hiddenSize: 16, ffnDim: 48, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 40, vocabularySize: 64))
        // A stop head that always says "continue": right at every sentence of a cut passage, wrong
        // at the last sentence of one that ends.
        sllm.fc.weight.data.update(repeating: 0, count: 32)
        sllm.fc.bias!.data[0] = -1
        sllm.fc.bias!.data[1] = 1
        let passage = try TokenBatch(sequences: [[2, 5, 6], [2, 7], [2, 8, 9, 10]], padId: 1)
        let ends = try withNoGrad { try sllm.loss(passage) }
        let goesOn = try withNoGrad { try sllm.loss(passage, continues: true) }
        XCTAssertEqual(ends.stopCorrect, 2)
        XCTAssertEqual(goesOn.stopCorrect, 3)
        // Cross-entropy of the 2-class softmax with logits (-1, 1): ln(1 + e^2) when wrong, ln(1 + e^-2) when right.
        let right = Float(log1p(exp(-2.0))), wrong = Float(log1p(exp(2.0)))
        XCTAssertEqual(try ends.stopCrossEntropy.item(), (2 * right + wrong) / 3, accuracy: 1e-5)
        XCTAssertEqual(try goesOn.stopCrossEntropy.item(), right, accuracy: 1e-5)
        XCTAssertEqual(try ends.decodeCrossEntropy.item(), try goesOn.decodeCrossEntropy.item())
    }

    func testCachedSentenceLoopMatchesUncachedPassage() throws {
        let c = G.goldens["sllm"] as! [String: Any]
        let sllm = try SentenceLLM(
            svae: SentenceVAEConfiguration(hiddenSize: 16, vocabularySize: 64, attentionHeads: 4, layers: 1, maxSequenceLength: 32),
            llm: OPTConfiguration(hiddenSize: 16, ffnDim: 48, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 40, vocabularySize: 64))
        try sllm.load(G.weights(c["params"]!))
        // Make the stop head always say "continue" so several sentences are generated.
        sllm.fc.weight.data.update(repeating: 0, count: 32)
        sllm.fc.bias!.data[0] = -1
        sllm.fc.bias!.data[1] = 1
        let batch = G.batch
        let prompt = (0..<batch.batch).map { b in Array(batch.ids[(b * batch.length)..<(b * batch.length + batch.lengths[b])]) }
        let generator = SentenceLLMGenerator(sllm: sllm, capacity: 16)
        let sampler = try Sampler(options: .greedy, vocabulary: 64)
        let result = try generator.generate(prompt: prompt, maxSentences: 3, sampler: sampler, maxTokens: 6)
        XCTAssertEqual(result.sentences.count, 3)
        XCTAssertFalse(result.stopped)

        // Uncached: the whole passage (prompt + re-encoded generated sentences) in one forward.
        let reencoded = result.sentences.map { [2] + ($0.last == 2 ? Array($0.dropLast()) : $0) }
        let passage = try TokenBatch(sequences: prompt + reencoded, padId: 1)
        let out = try withNoGrad { try sllm(passage) }
        let decoder = SentenceDecoderGenerator(decoder: sllm.svae.decoder)
        for (k, sentence) in result.sentences.enumerated() {
            let position = prompt.count - 1 + k
            let memory = out.hidden.data + position * 16
            XCTAssertEqual(try decoder.generate(memory: memory, sampler: sampler, maxTokens: 6), sentence, "sentence \(k)")
        }

        // With the real stop head: the loop stops exactly where the uncached stop logits say 0.
        try sllm.load(G.weights(c["params"]!))
        let real = try generator.generate(prompt: prompt, maxSentences: 10, sampler: sampler, maxTokens: 6)
        let all = try TokenBatch(sequences: prompt + real.sentences.map { [2] + ($0.last == 2 ? Array($0.dropLast()) : $0) }, padId: 1)
        let stops = try withNoGrad { try sllm(all).stopLogits }
        for p in (prompt.count - 1)..<all.batch {
            let says = stops.data[p * 2 + 1] > stops.data[p * 2] ? "continue" : "stop"
            if p < all.batch - 1 {
                XCTAssertEqual(says, "continue", "position \(p)")
            } else if real.stopped {
                XCTAssertEqual(says, "stop", "position \(p)")
            }
        }

        // A stop head that always says stop ends generation before the first sentence.
        sllm.fc.weight.data.update(repeating: 0, count: 32)
        sllm.fc.bias!.data[0] = 1
        sllm.fc.bias!.data[1] = -1
        let none = try generator.generate(prompt: prompt, maxSentences: 10, sampler: sampler, maxTokens: 6)
        XCTAssertEqual(none.sentences.count, 0)
        XCTAssertTrue(none.stopped)
    }
}
