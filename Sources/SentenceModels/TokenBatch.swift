import TensorCore

/// Right-padded token ids `[batch, length]` and their attention mask (`true` = real token), the
/// input every model here takes. Built by the tokenizer's batch encoding or by hand.
public struct TokenBatch: Equatable, Sendable {
    public let ids: [Int]
    public let mask: [Bool]
    public let batch: Int
    public let length: Int

    public init(ids: [Int], mask: [Bool], batch: Int, length: Int) throws {
        guard ids.count == batch * length, mask.count == batch * length else {
            throw TensorError.elementCount(op: "TokenBatch [\(batch), \(length)]", expected: batch * length, got: ids.count)
        }
        self.ids = ids
        self.mask = mask
        self.batch = batch
        self.length = length
    }

    /// Pads `sequences` on the right with `padId` to the longest one.
    public init(sequences: [[Int]], padId: Int) throws {
        let length = sequences.map(\.count).max() ?? 0
        var ids: [Int] = [], mask: [Bool] = []
        for s in sequences {
            ids += s + [Int](repeating: padId, count: length - s.count)
            mask += [Bool](repeating: true, count: s.count) + [Bool](repeating: false, count: length - s.count)
        }
        try self.init(ids: ids, mask: mask, batch: sequences.count, length: length)
    }

    /// Real tokens per row.
    public var lengths: [Int] {
        (0..<batch).map { b in mask[(b * length)..<((b + 1) * length)].filter { $0 }.count }
    }

    /// The key-padding mask for attention (`true` = padding).
    public var paddingMask: Mask {
        try! Mask(shape: [batch, length], values: mask.map { !$0 })
    }

    /// `[batch, length, 1]` of 1 for real tokens and 0 for padding, for zeroing padded rows.
    var keepTensor: Tensor {
        try! Tensor(shape: [batch, length, 1], values: mask.map { $0 ? 1 : 0 })
    }
}
