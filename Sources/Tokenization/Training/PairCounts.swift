/// Weighted occurrence counts of symbol pairs during BPE training, in an open-addressing table
/// keyed by the packed pair (left id << 32 | right id). Counts are never removed: a pair that
/// drops to zero keeps its slot, as in HF's trainer, where a count of 0 simply never merges.
struct PairCounts {
    private var keys: [UInt64]
    private var values: [Int]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 1024
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: PairCounts.empty, count: size)
        values = [Int](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The count of `key` (0 for a pair never seen).
    subscript(key: UInt64) -> Int {
        var i = PairCounts.slot(key, mask)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == PairCounts.empty { return 0 }
            i = (i + 1) & mask
        }
    }

    /// Adds `delta` (which may be negative) to the count of `key`.
    mutating func add(_ key: UInt64, _ delta: Int) {
        var i = PairCounts.slot(key, mask)
        while true {
            let k = keys[i]
            if k == key { values[i] += delta; return }
            if k == PairCounts.empty { break }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = delta
        count += 1
        if count * 2 > keys.count { grow() }
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: PairCounts.empty, count: oldKeys.count * 2)
        values = [Int](repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        for (k, v) in zip(oldKeys, oldValues) where k != PairCounts.empty {
            var i = PairCounts.slot(k, mask)
            while keys[i] != PairCounts.empty { i = (i + 1) & mask }
            keys[i] = k
            values[i] = v
        }
    }
}
