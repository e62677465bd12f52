/// A pair waiting to be merged: its count when it was queued and the words it was seen in.
///
/// Counts go stale as other merges eat occurrences; the trainer checks the count when a candidate
/// reaches the top and queues it again with the fresh count if it changed (lazy updates, as HF's
/// trainer does) instead of finding and fixing queued entries.
struct MergeCandidate {
    var count: Int
    /// Left id in the high 32 bits, right id in the low ones, so comparing keys compares pairs.
    var pair: UInt64
    /// Index of the candidate's word list in the trainer's position lists.
    var positions: Int32

    /// Higher count first; between equal counts the smaller pair (by left id, then right id).
    @inline(__always)
    func precedes(_ other: MergeCandidate) -> Bool {
        count != other.count ? count > other.count : pair < other.pair
    }
}

/// A binary max-heap of merge candidates.
struct MergeQueue {
    private var heap: [MergeCandidate] = []

    init(capacity: Int = 0) { heap.reserveCapacity(capacity) }

    var count: Int { heap.count }

    mutating func push(_ c: MergeCandidate) {
        heap.append(c)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].precedes(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> MergeCandidate? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        let n = heap.count
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < n && heap[l].precedes(heap[best]) { best = l }
            if r < n && heap[r].precedes(heap[best]) { best = r }
            if best == i { break }
            heap.swapAt(i, best)
            i = best
        }
        return top
    }
}
