import AllocationCounter
import NeuralNet
@testable import SentenceModels
import TensorCore
import Synchronization
import XCTest

/// The decoding loops allocate nothing once warmed up: every heap allocation of the decoding
/// thread and the kernels' pool workers (malloc and friends, counted by the `AllocationCounter`
/// shim linked into the tests) is counted over whole sentences and tokens. Skipped where the shim cannot count (non-glibc platforms).
final class GenerationAllocationTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(allocation_counter_available() == 1, "allocations are counted only with glibc")
    }

    static func sllm(storage: WeightFormat, width: Int = 32) throws -> (SentenceLLM, InferenceWeights) {
        let svae = SentenceVAEConfiguration(hiddenSize: width, vocabularySize: 96, attentionHeads: 4, layers: 2, maxSequenceLength: 16)
        let llm = OPTConfiguration(hiddenSize: width, ffnDim: 2 * width, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 64,
                                   vocabularySize: 96, dropout: 0)
        return try ModelFactory.sllm(svae: svae, llm: llm, weights: .random(seed: 3), storage: storage)
    }

    /// Counts the allocations of `body`.
    func allocations(_ body: () throws -> Void) rethrows -> Int {
        allocation_counter_start()
        do { try body() } catch {
            _ = allocation_counter_stop()
            throw error
        }
        return allocation_counter_stop()
    }

    private var kept: [Int] = []

    /// The counter sees Swift's allocations (else the tests below could not fail).
    func testCounterCountsAnArray() {
        let n = allocations { kept = Array(repeating: 7, count: 100 + kept.count) }
        XCTAssertGreaterThanOrEqual(n, 1)
        XCTAssertEqual(kept.count, 100)
    }

    /// The pool's workers count too: every task allocates one array, whichever thread runs it.
    func testCounterCountsThePoolWorkers() throws {
        let pool = Threads.shared
        try XCTSkipIf(pool.threadCount < 2, "one thread: no workers to count")
        let tasks = 64
        let onWorkers = Atomic<Int>(0)
        let caller = pthread_self()
        let boxes = UnsafeMutablePointer<[Int]>.allocate(capacity: tasks)
        boxes.initialize(repeating: [], count: tasks)
        defer { boxes.deinitialize(count: tasks); boxes.deallocate() }
        let n = allocations {
            pool.run(tasks) { i in
                let start = DispatchTime.now().uptimeNanoseconds
                while DispatchTime.now().uptimeNanoseconds - start < 200_000 {}   // long enough for workers to join
                boxes[i] = Array(repeating: i, count: 32)
                if pthread_equal(pthread_self(), caller) == 0 { onWorkers.add(1, ordering: .relaxed) }
            }
        }
        XCTAssertGreaterThan(onWorkers.load(ordering: .relaxed), 0, "no task ran on a worker")
        XCTAssertGreaterThanOrEqual(n, tasks)
    }

    /// Threads outside the code under test (here a plain Foundation thread making 1,000 arrays) are
    /// not counted; the caller's own cost of starting a thread is.
    func testCounterLeavesOtherThreadsOut() {
        let done = DispatchSemaphore(value: 0)
        let made = Atomic<Int>(0)
        let n = allocations {
            let thread = Thread {
                for i in 0..<1000 { made.add(Array(repeating: i, count: 8 + i % 3).count > 0 ? 1 : 0, ordering: .relaxed) }
                done.signal()
            }
            thread.start()
            done.wait()
        }
        XCTAssertEqual(made.load(ordering: .relaxed), 1000)
        XCTAssertLessThan(n, 100)
    }

    func testSentenceLoopAllocatesNothingAfterWarmUp() throws {
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 2
        // Width 256: the products run on both threads (`RowParts`, the shared few-rows tiles).
        for (storage, width) in [(WeightFormat.f32, 32), (.bf16, 32), (.q8, 32), (.f32, 256), (.bf16, 256), (.q8, 256)] {
            let (model, weights) = try Self.sllm(storage: storage, width: width)
            let generator = SentenceLLMGenerator(sllm: model, capacity: 40, weights: weights)
            // Greedy with the repetition penalty and n-gram blocking on, so their bookkeeping is counted too.
            let sampler = try Sampler(options: SamplingOptions(repetitionPenalty: 1.3, noRepeatNgramSize: 3), vocabulary: 96)
            let prompt = [[2, 10, 11, 12], [2, 20, 21, 22, 23, 24], [2, 30]]
            var sentence: [Int] = []
            var tokens = 0
            // One passage of `sentences` sentences, each of exactly `length` tokens (ignoreEOS).
            func passage(sentences: Int, length: Int) throws {
                try generator.prefill(prompt)
                sampler.forgetHistory()
                for i in 0..<prompt.count { sampler.remember(prompt[i]) }
                for _ in 0..<sentences {
                    _ = generator.shouldContinue()
                    try generator.decodeSentence(sampler: sampler, into: &sentence, maxTokens: length, ignoreEOS: true) { _ in tokens += 1 }
                    try generator.feed(generated: sentence)
                }
            }
            try passage(sentences: 8, length: 15)   // warm-up: sizes every buffer at its largest
            let short = try allocations { try passage(sentences: 4, length: 6) }
            let long = try allocations { try passage(sentences: 12, length: 15) }
            XCTAssertEqual(short, 0, "\(storage), width \(width): allocations over 4 sentences of 6 tokens")
            XCTAssertEqual(long, 0, "\(storage), width \(width): allocations over 12 sentences of 15 tokens")
            XCTAssertEqual(sentence.count, 15)
            XCTAssertEqual(tokens, 8 * 15 + 4 * 6 + 12 * 15)
        }
    }

    /// Allocations over `steps` OPT decoding steps after a 4-token prompt and 4 steps of warm-up.
    private func optStepAllocations(_ config: OPTConfiguration, storage: WeightFormat, seed: UInt64, steps: Int) throws -> Int {
        let (model, weights) = try ModelFactory.opt(configuration: config, weights: .random(seed: seed), storage: storage)
        let generator = OPTGenerator(model: model, capacity: 8 + steps, weights: weights)
        let sampler = try Sampler(options: .greedy, vocabulary: config.vocabularySize)
        try generator([2, 5, 6, 7])
        var next = 8
        for _ in 0..<4 { next = sampler.next(try generator(token: next)) }   // warm-up, 8 positions
        return try allocations {
            for _ in 0..<steps { next = sampler.next(try generator(token: next)) }
        }
    }

    func testOPTTokenStepAllocatesNothingAfterWarmUp() throws {
        let config = OPTConfiguration(hiddenSize: 32, ffnDim: 64, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 64, vocabularySize: 96, dropout: 0)
        for storage in [WeightFormat.f32, .q8] {
            XCTAssertEqual(try optStepAllocations(config, storage: storage, seed: 5, steps: 40), 0, "\(storage): allocations over 40 OPT decoding steps")
        }
    }

    /// Decoding steps at a width whose products run on both threads (`RowParts`), and whose
    /// attention starts splitting the cached positions between them (`CachedAttention.splitFloats`)
    /// midway through the measured steps; the test above, at width 32, runs neither.
    func testOPTTokenStepAllocatesNothingWhenAttentionStartsSplitting() throws {
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 2
        let config = OPTConfiguration(hiddenSize: 256, ffnDim: 512, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 256,
                                      vocabularySize: 96, dropout: 0)
        XCTAssert(8 * 256 < CachedAttention.splitFloats && 120 * 256 >= CachedAttention.splitFloats, "the split starts in the measured steps")
        for storage in [WeightFormat.f32, .q8] {
            XCTAssertEqual(try optStepAllocations(config, storage: storage, seed: 6, steps: 112), 0, "\(storage): allocations over 112 OPT decoding steps")
        }
    }
}
