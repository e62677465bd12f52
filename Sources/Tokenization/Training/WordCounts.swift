/// How often each pre-tokenized word occurs in a corpus: everything BPE training needs to know
/// about the text.
///
/// Texts are split with GPT-2's pre-tokenizer (`PreTokenizer`, the same split HF's ByteLevel
/// pre-tokenizer makes with `add_prefix_space: false`) and each piece is counted as a byte string.
/// Words are keyed by their bytes, never by `String`: Swift compares strings by canonical
/// equivalence, which would merge "é" with "e\u{301}" where a byte-level tokenizer must not.
/// The words live back to back in one arena, looked up through an open-addressing table.
public struct WordCounts: Sendable {
    /// The bytes of every distinct word, back to back; word `i` is `arena[starts[i]..<starts[i + 1]]`.
    private(set) var arena: [UInt8] = []
    private(set) var starts: [Int] = [0]
    /// Occurrences of word `i`.
    private(set) var counts: [Int] = []
    private var hashes: [UInt64] = []
    /// Word index + 1 per slot; 0 is empty.
    private var slots = [Int32](repeating: 0, count: 1 << 12)

    /// Words counted, repeats included.
    public private(set) var totalWords = 0
    /// Bytes of text counted.
    public private(set) var totalBytes = 0

    public init() {}

    /// Distinct words.
    public var uniqueWords: Int { counts.count }

    /// The bytes and count of word `i` (0 ≤ i < `uniqueWords`, in order of first appearance).
    public func word(_ i: Int) -> (bytes: ArraySlice<UInt8>, count: Int) {
        (arena[starts[i]..<starts[i + 1]], counts[i])
    }

    /// Counts the words of one text (a document: texts are pre-tokenized separately, so no word
    /// spans two of them).
    public mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { p in
            totalBytes += p.count
            PreTokenizer.split(p) { s, e in add(word: p, s, e) }
        }
    }

    /// Counts `p[start..<end]` as one word.
    private mutating func add(word p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
        totalWords += 1
        let hash = WordCache.hash(p, start, end)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash >> 20) & mask
        let n = end - start
        while true {
            let slot = Int(slots[i])
            if slot == 0 { break }
            let w = slot - 1
            if hashes[w] == hash && starts[w + 1] - starts[w] == n {
                let same = arena.withUnsafeBufferPointer { a -> Bool in
                    let base = starts[w]
                    for j in 0..<n where a[base + j] != p[start + j] { return false }
                    return true
                }
                if same { counts[w] += 1; return }
            }
            i = (i + 1) & mask
        }
        slots[i] = Int32(counts.count + 1)
        arena.append(contentsOf: p[start..<end])
        starts.append(arena.count)
        counts.append(1)
        hashes.append(hash)
        if counts.count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for w in 0..<counts.count {
            var i = Int(truncatingIfNeeded: hashes[w] >> 20) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = Int32(w + 1)
        }
    }
}
