/// Weighted occurrence counts of symbol pairs during BPE training, keyed by the packed pair.
/// Counts are never removed: a pair that drops to zero keeps its slot, as in HF's trainer, where a
/// count of 0 simply never merges.
typealias PairCounts = PairMap<Int>

extension PairMap where Value == Int {
    init(capacity: Int) { self.init(capacity: capacity, zero: 0) }

    /// The count of `key` (0 for a pair never seen).
    subscript(key: UInt64) -> Int { lookup(key) ?? 0 }

    /// Adds `delta` (which may be negative) to the count of `key`.
    mutating func add(_ key: UInt64, _ delta: Int) {
        update(key, initial: 0) { $0 += delta }
    }
}
