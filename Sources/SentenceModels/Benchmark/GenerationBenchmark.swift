import Foundation

/// The workload of `sentencevae bench generate`, the same as `Tools/reference/bench_torch_generate.py`
/// (whose docstring is the full specification): per passage of n sentences (each `[</s>] + ids`)
/// the first m = n/2 are the prompt, and n − m sentences of exactly `sentenceTokens` tokens are
/// generated (EOS and the stop head ignored, so random weights give runs that compare). The OPT
/// gets the same text as tokens: `[</s>]` + the prompt sentences without their `</s>`, then
/// (n − m)·S tokens one at a time.
public struct GenerationWorkload: Sendable {
    public var passages: [[[Int]]]
    public var sentenceTokens: Int

    public init(passages: [[[Int]]], sentenceTokens: Int) {
        self.passages = passages.filter { $0.count / 2 >= 1 }
        self.sentenceTokens = sentenceTokens
    }
}

/// What one model did over a workload: times, token counts and the cache-size samples.
public struct GenerationMeasurement: Sendable {
    public var inputTokens = 0
    public var prefillSeconds = 0.0
    public var outputTokens = 0
    public var outputSeconds = 0.0
    public var firstTokenSeconds: [Double] = []
    /// (tokens held, cache bytes held) after every update of the cache.
    public var cacheSamples: [(tokens: Int, bytes: Int)] = []

    public var inputTokensPerSecond: Double { Double(inputTokens) / prefillSeconds }
    public var outputTokensPerSecond: Double { Double(outputTokens) / outputSeconds }
    public var timeToFirstToken: Double { firstTokenSeconds.reduce(0, +) / Double(max(firstTokenSeconds.count, 1)) }

    /// KB of cache per token held: the least-squares slope of bytes against tokens over all
    /// samples pooled (as the original's benchmark fits its memory samples).
    public var kilobytesPerToken: Double {
        let n = Double(cacheSamples.count)
        guard n >= 2 else { return .nan }
        let mx = cacheSamples.reduce(0.0) { $0 + Double($1.tokens) } / n
        let my = cacheSamples.reduce(0.0) { $0 + Double($1.bytes) } / n
        var sxy = 0.0, sxx = 0.0
        for s in cacheSamples {
            sxy += (Double(s.tokens) - mx) * (Double(s.bytes) - my)
            sxx += (Double(s.tokens) - mx) * (Double(s.tokens) - mx)
        }
        return sxx > 0 ? sxy / sxx / 1024 : .nan
    }
}

public enum GenerationBenchmark {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Token-level OPT: one prefill of the prompt, then greedy tokens one at a time with the cache.
    /// Passage 1 runs once untimed first (warm-up: buffers sized, pages faulted in).
    public static func run(_ generator: OPTGenerator, _ workload: GenerationWorkload) throws -> GenerationMeasurement {
        var m = GenerationMeasurement()
        let vocabulary = generator.model.config.vocabularySize
        for (index, passage) in ([workload.passages[0]] + workload.passages).enumerated() {
            let timed = index > 0
            let prompt = [2] + passage[..<(passage.count / 2)].flatMap { $0.dropFirst() }
            let count = (passage.count - passage.count / 2) * workload.sentenceTokens
            guard prompt.count + count <= generator.capacity else {
                throw GenerationBenchmarkError("a passage needs \(prompt.count + count) positions; the model has \(generator.capacity)")
            }
            generator.reset()
            let start = now()
            var logits = try generator(prompt)
            let prefilled = now()
            var next = Sampler.argmax(logits, count: vocabulary)
            let first = now()
            var samples = [(tokens: prompt.count, bytes: generator.cacheBytesHeld)]
            var paused = 0.0
            for k in 1..<count {
                logits = try generator(token: next)
                next = Sampler.argmax(logits, count: vocabulary)
                let t = now()
                samples.append((prompt.count + k, generator.cacheBytesHeld))
                paused += now() - t
            }
            let end = now()
            guard timed else { continue }
            m.inputTokens += prompt.count
            m.prefillSeconds += prefilled - start
            m.outputTokens += count
            m.outputSeconds += end - prefilled - paused
            m.firstTokenSeconds.append(first - start)
            m.cacheSamples += samples
        }
        return m
    }

    /// The SLLM: the prompt's sentences in one prefill, then per sentence the stop head (evaluated,
    /// ignored), a sentence of exactly S tokens, and (but for the last) one LLM step for it.
    public static func run(_ generator: SentenceLLMGenerator, _ workload: GenerationWorkload) throws -> GenerationMeasurement {
        var m = GenerationMeasurement()
        let sampler = try Sampler(options: .greedy, vocabulary: generator.sllm.svae.config.vocabularySize)
        let s = workload.sentenceTokens
        var tokens: [Int] = []
        for (index, passage) in ([workload.passages[0]] + workload.passages).enumerated() {
            let timed = index > 0
            let prompt = Array(passage[..<(passage.count / 2)])
            let promptTokens = prompt.reduce(0) { $0 + $1.count }
            let sentences = passage.count - prompt.count
            guard prompt.count + sentences <= generator.capacity else {
                throw GenerationBenchmarkError("a passage needs \(prompt.count + sentences) sentence positions; the generator holds \(generator.capacity)")
            }
            let start = now()
            try generator.prefill(prompt)
            let prefilled = now()
            var first: Double?
            var samples = [(tokens: promptTokens, bytes: generator.cacheBytesHeld)]
            var paused = 0.0
            for j in 1...sentences {
                _ = generator.shouldContinue()
                // Into one reused array: the timed loop allocates nothing (GenerationAllocationTests).
                try generator.decodeSentence(sampler: sampler, into: &tokens, maxTokens: s, ignoreEOS: true) { _ in
                    if first == nil { first = now() }
                }
                guard tokens.count == s else {
                    throw GenerationBenchmarkError("the decoder gave \(tokens.count) tokens where \(s) were asked (max_seq_len too small?)")
                }
                if j < sentences {
                    try generator.feed(generated: tokens)
                    let t = now()
                    samples.append((promptTokens + j * s, generator.cacheBytesHeld))
                    paused += now() - t
                }
            }
            let end = now()
            guard timed else { continue }
            m.inputTokens += promptTokens
            m.prefillSeconds += prefilled - start
            m.outputTokens += sentences * s
            m.outputSeconds += end - prefilled - paused
            m.firstTokenSeconds.append((first ?? end) - start)
            m.cacheSamples += samples
        }
        return m
    }
}

public struct GenerationBenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
