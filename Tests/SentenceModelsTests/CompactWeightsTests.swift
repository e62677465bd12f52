import TestSupport
import XCTest
import NeuralNet
import TensorCore
@testable import SentenceModels

/// The inference paths with bf16/q8 matrices. Each compact model is compared with an fp32 twin
/// whose matrices are the DEQUANTISED weights, so the paths must agree to rounding; the compact
/// model's own fp32 matrices are zeroed first, so a path that still read them would be caught.
/// Also: the raw-buffer sentence encoder against the autograd one.
final class CompactWeightsTests: XCTestCase {
    private typealias G = ModelGoldenTests

    /// Converts `model`'s matrices, zeroes their fp32 tensors, and fills `twin` with the dequantised values.
    private func compact(_ model: Layer, twin: Layer, _ format: WeightFormat) throws -> InferenceWeights {
        let weights = try ModelFactory.inferenceWeights(converting: model, to: format)
        XCTAssertGreaterThan(weights.storedCount, 0)
        for ((name, p), (_, q)) in zip(model.parameters(), twin.parameters()) {
            if weights.isStored(p) {
                let m = weights.matrix(p)
                for r in 0..<m.rows { m.row(r, into: q.data + r * m.columns) }
                p.data.update(repeating: 0, count: p.count)
            } else {
                q.data.update(from: p.data, count: p.count)
                XCTAssertFalse(StoredMatrices.isMatrix(name, shape: p.shape) && format.supports(columns: p.shape[1]), "\(name) should be stored")
            }
        }
        return weights
    }

    private func logits(_ step: CachedTokenStep, _ tokens: [Int], count: Int) throws -> [Float] {
        Array(UnsafeBufferPointer(start: try step(tokens), count: count))
    }

    func testOPTWithCompactWeightsEqualsFP32OnDequantisedWeights() throws {
        for format in [WeightFormat.bf16, .q8] {
            for projected in [false, true] {
                let config = OPTConfiguration(hiddenSize: 64, ffnDim: 128, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 40,
                                              wordEmbedProjectionDim: projected ? 32 : 64, layerNormBefore: !projected, vocabularySize: 96)
                let model = try OPTModel(config: config, seed: 3), twin = try OPTModel(config: config, seed: 4)
                let weights = try compact(model, twin: twin, format)
                let a = OPTGenerator(model: model, weights: weights), b = OPTGenerator(model: twin)
                let prompt = [2, 17, 5, 44, 90, 3]
                assertClose(try logits(a, prompt, count: 96), try logits(b, prompt, count: 96), rel: 1e-4, abs: 1e-5, "\(format) prefill")
                for token in [7, 8, 9] {
                    assertClose(try logits(a, [token], count: 96), try logits(b, [token], count: 96), rel: 1e-4, abs: 1e-5, "\(format) step")
                }
            }
        }
    }

    func testSVAEWithCompactWeightsEqualsFP32OnDequantisedWeights() throws {
        for format in [WeightFormat.bf16, .q8] {
            let config = SentenceVAEConfiguration(hiddenSize: 64, vocabularySize: 96, attentionHeads: 4, layers: 2,
                                                  maxSequenceLength: 16, learnableAdd: true)
            let model = try SentenceVAE(config: config, seed: 5), twin = try SentenceVAE(config: config, seed: 6)
            let weights = try compact(model, twin: twin, format)
            let sentences = [[2, 10, 11, 12], [2, 40], [2, 7, 7, 7, 7, 9, 90]]
            var got = [Float](repeating: 0, count: 3 * 64), want = got
            try SentenceEncoderStep(encoder: model.encoder, weights: weights).encode(sentences, into: &got)
            try SentenceEncoderStep(encoder: twin.encoder).encode(sentences, into: &want)
            assertClose(got, want, rel: 1e-4, abs: 1e-5, "\(format) encoder")
            let a = SentenceDecoderGenerator(decoder: model.decoder, weights: weights), b = SentenceDecoderGenerator(decoder: twin.decoder)
            want.withUnsafeBufferPointer { a.begin(memory: $0.baseAddress!); b.begin(memory: $0.baseAddress!) }
            for tokens in [[2], [30, 31], [5]] {
                assertClose(try logits(a, tokens, count: 96), try logits(b, tokens, count: 96), rel: 1e-4, abs: 1e-5, "\(format) decoder")
            }
        }
    }

    func testSLLMWithCompactWeightsEqualsFP32OnDequantisedWeights() throws {
        for format in [WeightFormat.bf16, .q8] {
            let svae = SentenceVAEConfiguration(hiddenSize: 32, vocabularySize: 64, attentionHeads: 4, layers: 1, maxSequenceLength: 16)
            let llm = OPTConfiguration(hiddenSize: 32, ffnDim: 64, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 40, vocabularySize: 64)
            let model = try SentenceLLM(svae: svae, llm: llm, seed: 7), twin = try SentenceLLM(svae: svae, llm: llm, seed: 8)
            let weights = try compact(model, twin: twin, format)
            for m in [model, twin] {   // always continue, so sentences get generated
                m.fc.weight.data.update(repeating: 0, count: m.fc.weight.count)
                m.fc.bias!.data[0] = -1
                m.fc.bias!.data[1] = 1
            }
            let sampler = try Sampler(options: .greedy, vocabulary: 64)
            let prompt = [[2, 10, 11, 12], [2, 40, 41]]
            let a = try SentenceLLMGenerator(sllm: model, capacity: 8, weights: weights).generate(prompt: prompt, maxSentences: 3, sampler: sampler, maxTokens: 6)
            let b = try SentenceLLMGenerator(sllm: twin, capacity: 8).generate(prompt: prompt, maxSentences: 3, sampler: sampler, maxTokens: 6)
            XCTAssertEqual(a.sentences, b.sentences, "\(format)")
            XCTAssertEqual(a.sentences.count, 3)
        }
    }

    func testEncoderStepEqualsTheAutogradEncoder() throws {
        for name in ["plain_sum", "learnable_add", "project_in"] {
            let c = G.goldens[name] as! [String: Any]
            let svae = try SentenceVAE(config: SentenceVAEConfiguration(
                hiddenSize: 16, vocabularySize: 64, wordEmbedProjectionDim: (c["word_embed_proj_dim"] as! NSNumber).intValue,
                attentionHeads: 4, layers: (c["layers"] as! NSNumber).intValue, maxSequenceLength: 32,
                learnableAdd: c["learnable_add"] as! Bool))
            try svae.load(G.weights(c["encoder"]!, prefix: "encoder.").merging(G.weights(c["decoder"]!, prefix: "decoder.")) { a, _ in a })
            let batch = G.batch
            let expected = try withNoGrad { try svae.encoder(batch) }.values
            let sentences = (0..<batch.batch).map { b in Array(batch.ids[(b * batch.length)..<(b * batch.length + batch.lengths[b])]) }
            var got = [Float](repeating: .nan, count: batch.batch * 16)
            try SentenceEncoderStep(encoder: svae.encoder).encode(sentences, into: &got)
            assertClose(got, expected, rel: 1e-5, abs: 1e-5, name)
            XCTAssertThrowsError(try SentenceEncoderStep(encoder: svae.encoder).encode([Array(repeating: 5, count: 33)], into: &got)) {
                XCTAssertTrue("\($0)".contains("max_seq_len"), "\($0)")
            }
        }
    }

    func testWhichParametersAreStored() {
        let stored = ["model.decoder.layers.0.self_attn.q_proj.weight", "model.decoder.layers.11.fc2.weight", "model.decoder.embed_tokens.weight",
                      "model.decoder.project_in.weight", "encoder.encoder.layers.0.self_attn.in_proj_weight",
                      "svae.decoder.decoder.layers.1.multihead_attn.out_proj.weight", "decoder.decoder.layers.0.linear1.weight",
                      "decoder.linear.weight", "svae.decoder.linear.weight", "llm_layers.3.self_attn.k_proj.weight",
                      "encoder.embed_token.weight", "svae.decoder.embed_token.weight"]
        let kept = ["model.decoder.layers.0.self_attn.q_proj.bias", "model.decoder.layers.0.final_layer_norm.weight",
                    "model.decoder.embed_positions.weight", "encoder.la.weight", "fc.weight",
                    "llm_pe.weight", "encoder.encoder.layers.0.self_attn.in_proj_bias", "encoder.lnorm.weight"]
        for name in stored { XCTAssertTrue(StoredMatrices.isMatrix(name, shape: [4, 4]), name) }
        for name in kept { XCTAssertFalse(StoredMatrices.isMatrix(name, shape: [4, 4]), name) }
        XCTAssertFalse(StoredMatrices.isMatrix("decoder.linear.weight", shape: [4]))
        XCTAssertEqual(StoredMatrices.format(for: [8, 48], requested: .q8), .f32)
        XCTAssertEqual(StoredMatrices.format(for: [8, 48], requested: .bf16), .bf16)
    }
}
