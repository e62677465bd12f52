/// Keys and values of one attention layer for every position seen so far, `[capacity, hidden]`
/// each (heads side by side in a row), allocated once for the longest sequence the generator allows.
public final class KVCache {
    public let capacity: Int
    public let width: Int
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>
    /// Positions filled.
    public internal(set) var length = 0

    public init(capacity: Int, width: Int) {
        self.capacity = capacity
        self.width = width
        keys = .allocate(capacity: max(capacity * width, 1))
        values = .allocate(capacity: max(capacity * width, 1))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    public func reset() { length = 0 }

    /// Bytes held (keys and values), for memory-per-token reports.
    public var bytes: Int { 2 * capacity * width * MemoryLayout<Float>.stride }
}
