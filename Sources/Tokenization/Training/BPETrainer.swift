/// Learns byte-level BPE merges from word counts.
///
/// The semantics are those of HF `tokenizers`' `BpeTrainer` behind a ByteLevel pre-tokenizer
/// (what `ByteLevelBPETokenizer.train` runs), so that both write the same `merges.txt` for the same
/// text:
/// - Ids: the special tokens first, in the order given; then the 256 byte symbols in order of the
///   code point GPT-2 writes them as (`!`…`~`, `¡`…`¬`, `®`…`ÿ`, then `Ā` = byte 0, …); then one id
///   per new token, in order of creation.
/// - Each round merges the pair with the highest count (occurrences weighted by word frequency);
///   between equal counts, the smaller pair of ids wins (left id first, then right).
/// - Training stops when the vocabulary holds `vocabularySize` tokens, when the best count is below
///   `minFrequency`, or when no pair is left.
/// - Every occurrence of the chosen pair is merged in its round. A span of text that ends up as
///   one token is segmented the same way in every word up to then, so no token is made twice;
///   should a merge spell an existing token (a special token written as text, say), it takes
///   that token's id, and a pair is saved once, at its last round, as HF's model saves it.
///
/// The algorithm is the usual incremental one: merge only the words the best pair occurs in, and
/// update pair counts by the neighbours each merge changes; a priority queue with lazy count
/// checks picks the next pair. Cost is proportional to the occurrences touched, not to the corpus.
public struct BPETrainer: Sendable {
    /// OPT's special tokens, at ids 0–3.
    public static let optSpecialTokens = ["<s>", "<pad>", "</s>", "<unk>"]

    /// The size of the finished vocabulary: special tokens + 256 byte symbols + merged tokens.
    public var vocabularySize: Int
    /// A pair seen fewer times than this is not merged (HF `ByteLevelBPETokenizer`'s default: 2).
    public var minFrequency: Int
    public var specialTokens: [String]

    public init(vocabularySize: Int, minFrequency: Int = 2, specialTokens: [String] = BPETrainer.optSpecialTokens) {
        self.vocabularySize = vocabularySize
        self.minFrequency = minFrequency
        self.specialTokens = specialTokens
    }

    /// The special tokens without repeats, in order.
    var distinctSpecialTokens: [String] {
        var seen = Set<String>()
        return specialTokens.filter { seen.insert($0).inserted }
    }

    /// The smallest vocabulary that holds the special tokens and all 256 byte symbols.
    public var minimumVocabularySize: Int {
        let symbols = Set((0..<256).map { String(ByteUnicodeMap.byteToScalar[$0]) })
        return symbols.count + distinctSpecialTokens.filter { !symbols.contains($0) }.count
    }

    /// Learns merges from `words`. `progress` is called every few rounds with the merges made so
    /// far and the most that can be made.
    public func train(_ words: WordCounts, progress: ((_ merges: Int, _ target: Int) -> Void)? = nil) throws -> TrainedBPE {
        guard vocabularySize >= minimumVocabularySize else {
            throw BPETrainingError.vocabularyTooSmall(requested: vocabularySize, minimum: minimumVocabularySize)
        }
        guard minFrequency >= 0 else { throw BPETrainingError.invalidMinFrequency(minFrequency) }
        guard words.uniqueWords > 0 else { throw BPETrainingError.noWords }

        var state = MergeState(specialTokens: distinctSpecialTokens, words: words)
        let initial = state.tokens.count
        var stop = TrainedBPE.Stop.noPairsLeft
        var rounds = 0
        while true {
            if state.tokens.count >= vocabularySize { stop = .vocabularyFull; break }
            guard var top = state.queue.pop() else { stop = .noPairsLeft; break }
            let current = state.pairCounts[top.pair]
            if top.count != current {
                top.count = current
                state.queue.push(top)
                continue
            }
            if top.count < 1 { stop = .noPairsLeft; break }
            if top.count < minFrequency { stop = .minFrequency(bestCount: top.count); break }
            state.merge(top)
            rounds += 1
            if let progress, rounds % 256 == 0 { progress(state.tokens.count - initial, vocabularySize - initial) }
        }
        progress?(state.tokens.count - initial, vocabularySize - initial)
        return TrainedBPE(tokens: state.tokens, merges: state.savedMerges(), specialTokens: distinctSpecialTokens,
                          rounds: rounds, stop: stop, words: words.totalWords, uniqueWords: words.uniqueWords)
    }
}

/// Everything the merge loop changes: symbols of every distinct word, pair counts, the queue.
private struct MergeState {
    /// Vocabulary text per id (special tokens as written, the rest as byte-level text).
    var tokens: [String] = []
    var ids: [String: Int32] = [:]
    /// The symbols of every word back to back; word `w` starts at `wordStart[w]` and has
    /// `wordLength[w]` symbols (it shrinks in place as merges apply).
    var symbols: [Int32] = []
    var wordStart: [Int] = []
    var wordLength: [Int32] = []
    var weight: [Int] = []
    var pairCounts: PairCounts
    var queue = MergeQueue()
    /// Word lists of queued candidates; freed lists are reused through `freeLists`.
    var positions: [[Int32]] = []
    var freeLists: [Int32] = []
    /// Pairs that gained occurrences in the current round → their new word list.
    var gained: [UInt64: Int32] = [:]
    /// Every round's pair and the id of the token it made.
    var rounds: [(pair: UInt64, id: Int32)] = []

    init(specialTokens: [String], words: WordCounts) {
        for s in specialTokens { Self.register(s, &tokens, &ids) }
        // Byte symbols by code point: the order HF's trainer sorts its alphabet in.
        var byteId = [Int32](repeating: 0, count: 256)
        let byCodePoint = (0..<256).sorted { ByteUnicodeMap.byteToScalar[$0].value < ByteUnicodeMap.byteToScalar[$1].value }
        for b in byCodePoint { byteId[b] = Self.register(String(ByteUnicodeMap.byteToScalar[b]), &tokens, &ids) }

        wordStart.reserveCapacity(words.uniqueWords)
        symbols.reserveCapacity(words.arena.count)
        for w in 0..<words.uniqueWords {
            let (bytes, count) = words.word(w)
            wordStart.append(symbols.count)
            wordLength.append(Int32(bytes.count))
            weight.append(count)
            for b in bytes { symbols.append(byteId[Int(b)]) }
        }

        pairCounts = PairCounts(capacity: 1 << 16)
        var firstLists: [UInt64: Int32] = [:]
        for w in 0..<weight.count {
            let s = wordStart[w], n = Int(wordLength[w])
            guard n > 1 else { continue }
            for j in s..<(s + n - 1) {
                let key = Self.key(symbols[j], symbols[j + 1])
                pairCounts.add(key, weight[w])
                if let list = firstLists[key] {
                    if positions[Int(list)].last != Int32(w) { positions[Int(list)].append(Int32(w)) }
                } else {
                    firstLists[key] = Int32(positions.count)
                    positions.append([Int32(w)])
                }
            }
        }
        queue = MergeQueue(capacity: firstLists.count * 2)
        for (key, list) in firstLists {
            let count = pairCounts[key]
            if count > 0 { queue.push(MergeCandidate(count: count, pair: key, positions: list)) }
        }
    }

    @discardableResult
    static func register(_ token: String, _ tokens: inout [String], _ ids: inout [String: Int32]) -> Int32 {
        if let id = ids[token] { return id }
        let id = Int32(tokens.count)
        tokens.append(token)
        ids[token] = id
        return id
    }

    @inline(__always)
    static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }

    /// Makes the token of `top`'s pair and merges the pair in every word it was queued with.
    mutating func merge(_ top: MergeCandidate) {
        let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair)
        let made = Self.register(tokens[Int(a)] + tokens[Int(b)], &tokens, &ids)
        rounds.append((top.pair, made))

        let list = positions[Int(top.positions)]
        positions[Int(top.positions)] = []
        freeLists.append(top.positions)
        for w in list { mergeWord(Int(w), a, b, made) }

        for (key, list) in gained {
            let count = pairCounts[key]
            if count > 0 {
                queue.push(MergeCandidate(count: count, pair: key, positions: list))
            } else {
                positions[Int(list)] = []
                freeLists.append(list)
            }
        }
        gained.removeAll(keepingCapacity: true)
    }

    /// Replaces every `a b` in word `w`, left to right, by `made`, and moves the counts of the
    /// neighbouring pairs: `x a` and `b y` lose one occurrence, `x made` and `made y` gain one.
    /// The pair `a b` itself keeps its count (see `BPETrainer`).
    mutating func mergeWord(_ w: Int, _ a: Int32, _ b: Int32, _ made: Int32) {
        let start = wordStart[w], n = Int(wordLength[w])
        let times = weight[w]
        var read = 0, write = 0
        while read < n {
            let s = symbols[start + read]
            if s == a && read + 1 < n && symbols[start + read + 1] == b {
                if write > 0 {
                    let left = symbols[start + write - 1]
                    change(Self.key(left, a), -times, w)
                    change(Self.key(left, made), times, w)
                }
                symbols[start + write] = made
                write += 1
                if read + 2 < n {
                    let right = symbols[start + read + 2]
                    change(Self.key(b, right), -times, w)
                    change(Self.key(made, right), times, w)
                }
                read += 2
            } else {
                symbols[start + write] = s
                write += 1
                read += 1
            }
        }
        wordLength[w] = Int32(write)
    }

    @inline(__always)
    mutating func change(_ key: UInt64, _ delta: Int, _ w: Int) {
        pairCounts.add(key, delta)
        guard delta > 0 else { return }
        if let list = gained[key] {
            if positions[Int(list)].last != Int32(w) { positions[Int(list)].append(Int32(w)) }
        } else {
            let list: Int32
            if let free = freeLists.popLast() {
                list = free
                positions[Int(list)].append(Int32(w))
            } else {
                list = Int32(positions.count)
                positions.append([Int32(w)])
            }
            gained[key] = list
        }
    }

    /// The merges as HF's model saves them: each pair once, ordered by the last round that merged it.
    func savedMerges() -> [(String, String)] {
        var last: [UInt64: Int] = [:]
        for (i, r) in rounds.enumerated() { last[r.pair] = i }
        var out: [(String, String)] = []
        out.reserveCapacity(last.count)
        for (i, r) in rounds.enumerated() where last[r.pair] == i {
            out.append((tokens[Int(r.pair >> 32)], tokens[Int(UInt32(truncatingIfNeeded: r.pair))]))
        }
        return out
    }
}
