/// The byte-level BPE model: vocabulary, rank-ordered merges and a per-word cache.
///
/// Everything is held as bytes. A *piece* is any byte string the model can produce (every
/// vocabulary token, every single byte, every merge result); merges map a pair of pieces to
/// `(rank, merged piece)` and each piece knows its vocabulary id (or none). Encoding a word starts
/// from its bytes and repeatedly applies the lowest-ranked adjacent merge, leftmost first, as
/// GPT-2's `bpe()` and HF `tokenizers` do.
public final class ByteLevelBPE {
    /// Token id → bytes; nil for ids that are not byte-level text (such as added tokens).
    public let idToBytes: [[UInt8]?]
    /// Token id → the token as written in the vocabulary file.
    public let idToToken: [String?]
    /// Token (as written in the vocabulary file) → id.
    public let tokenToId: [String: Int]
    /// Id written for pieces missing from the vocabulary; nil drops them (HF's behaviour).
    public var unknownId: Int?

    private var pieceToId: [Int32]
    private var byteToPiece: [Int32]
    private var merges: PairTable
    private var cache = WordCache()

    /// Scratch buffers reused by every `encodeWord` call.
    private var symbols: [Int32] = []
    private var ranks: [UInt64] = []

    /// Builds the model from a vocabulary and merges given as vocabulary-file text.
    /// - Parameters:
    ///   - merges: pairs in rank order.
    ///   - mergeOrigin: where merge `i` came from ("merges.txt:3"), for error messages.
    public init(vocabulary: [String: Int], merges mergeList: [(String, String)],
                mergeOrigin: (Int) -> String = { "merge \($0)" }) throws {
        let size = (vocabulary.values.max() ?? -1) + 1
        guard size <= max(1 << 20, vocabulary.count * 4) else {
            throw TokenizerError.invalidVocabulary("ids go up to \(size - 1) for \(vocabulary.count) tokens; ids must be dense")
        }
        var idToBytes = [[UInt8]?](repeating: nil, count: size)
        var idToToken = [String?](repeating: nil, count: size)
        // Pieces are indexed by their vocabulary-file spelling (a bijection with byte strings);
        // String keys hash much faster than [UInt8] keys.
        var pieceIndex: [String: Int32] = [:]
        var pieceToId: [Int32] = []
        pieceIndex.reserveCapacity(vocabulary.count + 256)
        func piece(_ token: String) -> Int32 {
            if let p = pieceIndex[token] { return p }
            let p = Int32(pieceToId.count)
            pieceIndex[token] = p
            pieceToId.append(-1)
            return p
        }
        for (token, id) in vocabulary {
            guard id >= 0 else { throw TokenizerError.invalidVocabulary("token \(token) has a negative id \(id)") }
            idToToken[id] = token
            guard let bytes = ByteUnicodeMap.bytes(of: token) else { continue }
            idToBytes[id] = bytes
            pieceToId[Int(piece(token))] = Int32(id)
        }
        var byteToPiece = [Int32](repeating: 0, count: 256)
        for b in 0..<256 { byteToPiece[b] = piece(ByteUnicodeMap.text(of: [UInt8(b)])) }
        var table = PairTable(capacity: mergeList.count)
        for (rank, (a, b)) in mergeList.enumerated() {
            for side in [a, b] where pieceIndex[side] == nil && ByteUnicodeMap.bytes(of: side) == nil {
                throw TokenizerError.malformed(mergeOrigin(rank), "merge \"\(a) \(b)\": \"\(side)\" is not byte-level text")
            }
            let pa = piece(a), pb = piece(b), pm = piece(a + b)
            table.insertIfAbsent(PairTable.key(pa, pb), UInt64(rank) << 32 | UInt64(UInt32(pm)))
        }
        self.idToBytes = idToBytes
        self.idToToken = idToToken
        self.tokenToId = vocabulary
        self.pieceToId = pieceToId
        self.byteToPiece = byteToPiece
        self.merges = table
    }

    /// A model sharing this one's tables (copy-on-write arrays, so no real copy) with an empty
    /// cache of its own: one per thread.
    public init(copying other: ByteLevelBPE) {
        idToBytes = other.idToBytes
        idToToken = other.idToToken
        tokenToId = other.tokenToId
        unknownId = other.unknownId
        pieceToId = other.pieceToId
        byteToPiece = other.byteToPiece
        merges = other.merges
    }

    /// Number of ids (one more than the largest id in the vocabulary).
    public var vocabularySize: Int { idToBytes.count }

    /// Number of merges.
    public var mergeCount: Int { merges.count }

    /// Encodes one pre-token `p[start..<end]` and appends its ids.
    @inline(__always)
    func encodeWord(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Int32]) {
        let hash = WordCache.hash(p, start, end)
        if cache.lookup(p, start, end, hash: hash, into: &out) { return }
        let first = out.count
        bpe(p, start, end, into: &out)
        // Long words rarely repeat; caching them would only fill the arena.
        if end - start <= longWordThreshold { cache.insert(p, start, end, hash: hash, ids: out[first...]) }
    }

    /// Words longer than this (in bytes) are merged with a heap instead of the quadratic scan.
    var longWordThreshold = 256

    /// The merge loop: keep the rank of every adjacent pair, merge the smallest, update its two
    /// neighbours' ranks. O(n²) in the word length but fastest for real words; long runs (DNA,
    /// base64, minified code) go through `mergeLongWord` instead.
    private func bpe(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Int32]) {
        symbols.removeAll(keepingCapacity: true)
        ranks.removeAll(keepingCapacity: true)
        for i in start..<end { symbols.append(byteToPiece[Int(p[i])]) }
        if symbols.count > longWordThreshold { mergeLongWord() }
        let none = UInt64.max
        @inline(__always) func pairValue(_ a: Int32, _ b: Int32) -> UInt64 {
            merges.lookup(PairTable.key(a, b)) ?? none
        }
        if symbols.count > 1 {
            for i in 0..<(symbols.count - 1) { ranks.append(pairValue(symbols[i], symbols[i + 1])) }
        }
        while symbols.count > 1 {
            var best = none, at = -1
            for i in 0..<ranks.count where ranks[i] < best { best = ranks[i]; at = i }
            if at < 0 { break }
            symbols[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            symbols.remove(at: at + 1)
            ranks.remove(at: at)
            if at > 0 { ranks[at - 1] = pairValue(symbols[at - 1], symbols[at]) }
            if at < ranks.count { ranks[at] = pairValue(symbols[at], symbols[at + 1]) }
        }
        for s in symbols {
            let id = pieceToId[Int(s)]
            if id >= 0 {
                out.append(id)
            } else if let unk = unknownId {
                out.append(Int32(unk))
            }
        }
    }

    /// The same merges in O(n log n), as HF `tokenizers` does it: a min-heap of candidate pairs
    /// keyed by (rank, position) over a linked list of symbols. A popped pair is stale if either
    /// side has changed since it was pushed; the rank identifies the pair, so re-checking it
    /// suffices. Ties go to the leftmost pair, exactly as in the scan.
    private func mergeLongWord() {
        let n = symbols.count
        var next = [Int](1...n), prev = [Int](-1..<(n - 1))
        next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        @inline(__always) func push(_ i: Int) {
            let j = next[i]
            guard j >= 0, let v = merges.lookup(PairTable.key(symbols[i], symbols[j])) else { return }
            heap.push((v >> 32) << 32 | UInt64(i))
        }
        for i in 0..<(n - 1) { push(i) }
        while let top = heap.pop() {
            let rank = top >> 32, i = Int(top & 0xFFFF_FFFF)
            let j = next[i]
            guard alive[i], j >= 0, let v = merges.lookup(PairTable.key(symbols[i], symbols[j])),
                  v >> 32 == rank else { continue }
            symbols[i] = Int32(truncatingIfNeeded: v & 0xFFFF_FFFF)
            alive[j] = false
            next[i] = next[j]
            if next[j] >= 0 { prev[next[j]] = i }
            if prev[i] >= 0 { push(prev[i]) }
            push(i)
        }
        var merged: [Int32] = []
        var i = 0
        while i >= 0 { merged.append(symbols[i]); i = next[i] }
        symbols = merged
    }

    /// Forgets cached words (for benchmarks that want a cold start).
    public func clearCache() { cache.clear() }
}

/// A binary min-heap of packed (rank, position) keys for `mergeLongWord`.
struct MinHeap {
    private var a: [UInt64] = []

    mutating func push(_ x: UInt64) {
        a.append(x)
        var i = a.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if a[parent] <= a[i] { break }
            a.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let top = a.first else { return nil }
        let last = a.removeLast()
        if !a.isEmpty {
            a[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < a.count && a[l] < a[m] { m = l }
                if r < a.count && a[r] < a[m] { m = r }
                if m == i { break }
                a.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}
