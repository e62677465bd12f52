/// Two small open-addressing hash tables for the BPE hot path.
///
/// Swift's `Dictionary` hashes with SipHash and needs an allocated key; encoding looks up one merge
/// pair per candidate and one cache entry per word, so both lookups here use a cheap multiplicative
/// hash and, for words, hash the bytes in place without building a key.

/// An open-addressing table keyed by a pair of ids packed into a `UInt64` (left << 32 | right):
/// the merge table of encoding (`PairTable`: rank and merged piece) and the pair counts of
/// training (`PairCounts`). Entries are never removed.
struct PairMap<Value> {
    private var keys: [UInt64]
    private var values: [Value]
    private var mask: Int
    private(set) var count = 0
    private let zero: Value
    private static var empty: UInt64 { UInt64.max }

    /// `zero` fills the free slots (it is never returned for a missing key).
    init(capacity: Int, zero: Value) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [Value](repeating: zero, count: size)
        mask = size - 1
        self.zero = zero
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    @inline(__always)
    static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    /// The slot holding `key`, or the empty slot where it would go.
    @inline(__always)
    private func find(_ key: UInt64) -> (index: Int, found: Bool) {
        keys.withUnsafeBufferPointer { k in
            var i = Self.slot(key, mask)
            while true {
                let stored = k[i]
                if stored == key { return (i, true) }
                if stored == Self.empty { return (i, false) }
                i = (i + 1) & mask
            }
        }
    }

    @inline(__always)
    func lookup(_ key: UInt64) -> Value? {
        let (i, found) = find(key)
        return found ? values[i] : nil
    }

    /// Inserts unless the key is present (the first merge of a pair wins, as in HF).
    mutating func insertIfAbsent(_ key: UInt64, _ value: Value) {
        if (count + 1) * 2 > keys.count { grow() }
        let (i, found) = find(key)
        guard !found else { return }
        keys[i] = key
        values[i] = value
        count += 1
    }

    /// Changes the value of `key` (starting from `initial` when absent).
    mutating func update(_ key: UInt64, initial: Value, _ change: (inout Value) -> Void) {
        if (count + 1) * 2 > keys.count { grow() }
        let (i, found) = find(key)
        if !found {
            keys[i] = key
            values[i] = initial
            count += 1
        }
        change(&values[i])
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [Value](repeating: zero, count: oldKeys.count * 2)
        mask = keys.count - 1
        count = 0
        for (k, v) in zip(oldKeys, oldValues) where k != Self.empty { insertIfAbsent(k, v) }
    }
}

/// Merge pair → packed (rank << 32 | merged piece).
typealias PairTable = PairMap<UInt64>

extension PairMap where Value == UInt64 {
    init(capacity: Int) { self.init(capacity: capacity, zero: 0) }
}

/// Remembers the token ids of words already encoded. Keys and values live in two flat arenas;
/// the table is simply cleared when it reaches `maxEntries` or 64 MB of keys, which bounds memory
/// on huge corpora.
struct WordCache {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int32, keyCount: Int32
        var valueStart: Int32, valueCount: Int32
    }
    private var slots: [Int32]
    private var entries: [Entry] = []
    private var keyArena: [UInt8] = []
    private var valueArena: [Int32] = []
    private let maxEntries: Int

    init(maxEntries: Int = 1 << 18) {
        self.maxEntries = maxEntries
        var size = 1024
        while size < maxEntries * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
    }

    /// FNV-1a over the word's bytes, finished with a multiply so the low bits mix well.
    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in start..<end { h = (h ^ UInt64(p[i])) &* 0x100_0000_01B3 }
        return h &* 0x9E37_79B9_7F4A_7C15
    }

    /// Appends the cached ids of `p[start..<end]` to `out`; false if the word is not cached.
    @inline(__always)
    func lookup(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64,
                into out: inout [Int32]) -> Bool {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash >> 20) & mask
        let n = end - start
        return slots.withUnsafeBufferPointer { s in
            entries.withUnsafeBufferPointer { e in
                while true {
                    let idx = Int(s[i])
                    if idx < 0 { return false }
                    let entry = e[idx]
                    if entry.hash == hash && Int(entry.keyCount) == n {
                        let same = keyArena.withUnsafeBufferPointer { k -> Bool in
                            let ks = Int(entry.keyStart)
                            for j in 0..<n where k[ks + j] != p[start + j] { return false }
                            return true
                        }
                        if same {
                            let vs = Int(entry.valueStart)
                            for j in 0..<Int(entry.valueCount) { out.append(valueArena[vs + j]) }
                            return true
                        }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    mutating func insert(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64,
                         ids: ArraySlice<Int32>) {
        if entries.count >= maxEntries || keyArena.count > 64 << 20 {
            clear()
        }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash >> 20) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(entries.count)
        entries.append(Entry(hash: hash,
                             keyStart: Int32(keyArena.count), keyCount: Int32(end - start),
                             valueStart: Int32(valueArena.count), valueCount: Int32(ids.count)))
        keyArena.append(contentsOf: p[start..<end])
        valueArena.append(contentsOf: ids)
    }

    mutating func clear() {
        for i in slots.indices { slots[i] = -1 }
        entries.removeAll(keepingCapacity: true)
        keyArena.removeAll(keepingCapacity: true)
        valueArena.removeAll(keepingCapacity: true)
    }
}
