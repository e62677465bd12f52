import Foundation
import TensorCore

/// How the next token is chosen. Temperature 0 is greedy (argmax, first index on ties like
/// `torch.argmax`); otherwise logits are divided by the temperature, cut to the `topK` best
/// (0 = all), then to the smallest set whose probability reaches `topP` (1 = all), and sampled
/// from a seeded generator, so a seed gives the same text every run.
///
/// `repetitionPenalty` (1 = off) is transformers' `repetition_penalty`, applied first: the logit of
/// every token already in the text (the prompt and what was generated, see `Sampler.remember`) is
/// divided by it when positive and multiplied by it when negative, so values above 1 make repeats
/// less likely, greedy decoding included. `noRepeatNgramSize` n (0 = off) is transformers'
/// `no_repeat_ngram_size`: a token that would complete an n-gram already in the text is never picked.
public struct SamplingOptions: Equatable, Sendable {
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    public var seed: UInt64
    public var repetitionPenalty: Float
    public var noRepeatNgramSize: Int

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0, repetitionPenalty: Float = 1,
                noRepeatNgramSize: Int = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.repetitionPenalty = repetitionPenalty
        self.noRepeatNgramSize = noRepeatNgramSize
    }

    public static let greedy = SamplingOptions()

    public func validate() throws {
        guard temperature >= 0, temperature.isFinite else {
            throw TensorError.invalidArgument(op: "sampling", reason: "temperature must be ≥ 0 (0 = greedy), got \(temperature)")
        }
        guard topK >= 0 else { throw TensorError.invalidArgument(op: "sampling", reason: "top-k must be ≥ 0 (0 = off), got \(topK)") }
        guard topP > 0, topP <= 1 else { throw TensorError.invalidArgument(op: "sampling", reason: "top-p must be in (0, 1], got \(topP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else {
            throw TensorError.invalidArgument(op: "sampling", reason: "repetition penalty must be > 0 (1 = off), got \(repetitionPenalty)")
        }
        guard noRepeatNgramSize >= 0 else {
            throw TensorError.invalidArgument(op: "sampling", reason: "no-repeat n-gram size must be ≥ 0 (0 = off), got \(noRepeatNgramSize)")
        }
    }
}

/// Picks tokens from logits. Owns its scratch (probabilities, candidate order, the text's tokens
/// for the repetition penalty and n-gram blocking), sized once, so sampling allocates nothing per
/// token.
public final class Sampler {
    public let options: SamplingOptions
    /// A token the repetition penalty and n-gram blocking leave alone: the sentence decoder's end of
    /// sentence, which every sentence of an SLLM's text has, so penalising it would keep sentences
    /// from ending.
    public var exempt: Int?
    private var generator: RandomGenerator
    private let probabilities: UnsafeMutablePointer<Float>
    private let order: UnsafeMutablePointer<Int32>
    private let vocabulary: Int
    private let seen: UnsafeMutablePointer<Bool>          // per token: in the text so far
    private let history: UnsafeMutablePointer<Int32>      // the distinct tokens of the text
    private var historyCount = 0
    private let penalized: UnsafeMutablePointer<Float>    // logits after the penalty and bans
    private let text: UnsafeMutablePointer<Int32>         // the text in order, for n-gram blocking
    private var textCount = 0
    /// Tokens of a text that n-gram blocking remembers (16,384; later ones are not looked at).
    public static let textCapacity = 16_384

    public init(options: SamplingOptions, vocabulary: Int) throws {
        try options.validate()
        self.options = options
        self.vocabulary = vocabulary
        generator = RandomGenerator(seed: options.seed)
        probabilities = .allocate(capacity: vocabulary)
        order = .allocate(capacity: vocabulary)
        let tracked = options.repetitionPenalty == 1 ? 1 : vocabulary
        seen = .allocate(capacity: tracked)
        seen.initialize(repeating: false, count: tracked)
        history = .allocate(capacity: tracked)
        penalized = .allocate(capacity: options.repetitionPenalty == 1 && options.noRepeatNgramSize == 0 ? 1 : vocabulary)
        text = .allocate(capacity: options.noRepeatNgramSize == 0 ? 1 : Self.textCapacity)
    }

    deinit {
        probabilities.deallocate()
        order.deallocate()
        seen.deallocate()
        history.deallocate()
        penalized.deallocate()
        text.deallocate()
    }

    private var penalizes: Bool { options.repetitionPenalty != 1 }

    /// Starts a new text: the repetition penalty and n-gram blocking forget the tokens they have seen.
    public func forgetHistory() {
        textCount = 0
        guard penalizes else { return }
        for i in 0..<historyCount { seen[Int(history[i])] = false }
        historyCount = 0
    }

    /// Adds a token of the text (the prompt's; `next` adds the ones it picks) to what the repetition
    /// penalty and n-gram blocking see. Ids outside the vocabulary are ignored.
    public func remember(_ token: Int) {
        guard token >= 0, token < vocabulary else { return }
        if options.noRepeatNgramSize > 0, textCount < Self.textCapacity {
            text[textCount] = Int32(token)
            textCount += 1
        }
        guard penalizes, !seen[token] else { return }
        seen[token] = true
        history[historyCount] = Int32(token)
        historyCount += 1
    }

    public func remember(_ tokens: [Int]) {
        for i in 0..<tokens.count { remember(tokens[i]) }   // by index: unoptimised builds allocate in `for x in array`
    }

    /// `logits`, or a copy with the text's tokens penalised and the n-gram repeats banned (−inf).
    /// Should the bans leave nothing, the ban is lifted for this token.
    private func adjusted(_ logits: UnsafePointer<Float>) -> UnsafePointer<Float> {
        let n = options.noRepeatNgramSize
        let bans = n > 0 && textCount >= n
        guard (penalizes && historyCount > 0) || bans else { return logits }
        penalized.update(from: logits, count: vocabulary)
        let factor = options.repetitionPenalty
        for i in 0..<historyCount {
            let id = Int(history[i])
            guard id != exempt else { continue }
            let l = penalized[id]
            penalized[id] = l > 0 ? l / factor : l * factor
        }
        guard bans else { return UnsafePointer(penalized) }
        // Every earlier n-gram whose first n − 1 tokens are the text's last n − 1 bans its last token.
        let tail = text + (textCount - (n - 1))
        var banned = false
        for start in 0...(textCount - n) {
            var same = true
            for j in 0..<(n - 1) where text[start + j] != tail[j] {
                same = false
                break
            }
            let id = Int(text[start + n - 1])
            if same, id != exempt {
                penalized[id] = -.infinity
                banned = true
            }
        }
        if banned, penalized[Self.argmax(penalized, count: vocabulary)] == -.infinity { return logits }
        return UnsafePointer(penalized)
    }

    public static func argmax(_ logits: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for i in 1..<count where logits[i] > logits[best] { best = i }
        return best
    }

    /// The next token for `logits` (`[vocabulary]`; not modified); the repetition penalty then
    /// counts it as part of the text.
    public func next(_ logits: UnsafePointer<Float>) -> Int {
        let token = pick(adjusted(logits))
        remember(token)
        return token
    }

    private func pick(_ logits: UnsafePointer<Float>) -> Int {
        guard options.temperature > 0 else { return Self.argmax(logits, count: vocabulary) }
        Kernels.affine(logits, scale: 1 / options.temperature, shift: 0, probabilities, count: vocabulary)
        var candidates = vocabulary
        if options.topK > 0 && options.topK < vocabulary || options.topP < 1 {
            // Best first; ties by lower id, so the order (and the draw) is deterministic. Only the
            // top k are ranked (a heap of k over the vocabulary), and in place: no allocation.
            candidates = options.topK > 0 ? min(options.topK, vocabulary) : vocabulary
            rankBest(candidates)
        } else {
            for i in 0..<vocabulary { order[i] = Int32(i) }
        }
        let p = probabilities
        // Softmax over the candidates (they are the largest logits when a cut was made).
        var maxLogit = -Float.infinity
        for i in 0..<candidates { maxLogit = max(maxLogit, p[Int(order[i])]) }
        var total: Float = 0
        for i in 0..<candidates {
            let e = Float(exp(Double(p[Int(order[i])] - maxLogit)))
            p[Int(order[i])] = e
            total += e
        }
        if options.topP < 1 {
            var mass: Float = 0
            var kept = 0
            while kept < candidates && mass < options.topP * total {
                mass += p[Int(order[kept])]
                kept += 1
            }
            candidates = max(kept, 1)
            total = mass
        }
        var u = generator.nextUniform() * total
        for i in 0..<candidates {
            u -= p[Int(order[i])]
            if u < 0 { return Int(order[i]) }
        }
        return Int(order[candidates - 1])
    }

    /// A choice among a few classes (the SLLM's stop head): greedy takes the likeliest (first on
    /// ties); otherwise one draw from the softmax at the temperature, without top-k/top-p cuts,
    /// from the same seeded generator as the tokens.
    public func choose(_ logits: UnsafePointer<Float>, count: Int) -> Int {
        guard options.temperature > 0, count > 1 else { return Self.argmax(logits, count: count) }
        let best = logits[Self.argmax(logits, count: count)]
        var total: Float = 0
        for i in 0..<count { total += Float(exp(Double((logits[i] - best) / options.temperature))) }
        var u = generator.nextUniform() * total
        for i in 0..<count {
            u -= Float(exp(Double((logits[i] - best) / options.temperature)))
            if u < 0 { return i }
        }
        return count - 1
    }

    /// `order[0..<k]` = the ids of the k largest `probabilities` (still scaled logits), best first,
    /// ties by lower id: a min-heap of the best k seen (the worst of them at the root), then
    /// heapsort of that heap. O(V log k); k = V ranks everything.
    private func rankBest(_ k: Int) {
        let p = probabilities, heap = UnsafeMutableBufferPointer(start: order, count: vocabulary)
        // `a` ranks below `b`.
        @inline(__always) func worse(_ a: Int32, _ b: Int32) -> Bool {
            let pa = p[Int(a)], pb = p[Int(b)]
            return pa < pb || (pa == pb && a > b)
        }
        // Restores the heap below `start` within `count` (the root is the worst).
        @inline(__always) func siftDown(_ start: Int, _ count: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < count && worse(heap[l], heap[m]) { m = l }
                if r < count && worse(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in 0..<k { heap[i] = Int32(i) }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(i, k) }
        for id in k..<vocabulary where worse(heap[0], Int32(id)) {
            heap[0] = Int32(id)
            siftDown(0, k)
        }
        // Heapsort: the worst goes to the end each time, so the array ends best first.
        var count = k
        while count > 1 {
            count -= 1
            heap.swapAt(0, count)
            siftDown(0, count)
        }
    }
}
