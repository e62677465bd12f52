import NeuralNet
import TensorCore

/// OPT's learned positions: a `[maxPositions + 2, hidden]` table indexed by
/// `cumsum(mask)·mask − 1 + 2` (HF's offset of 2; padded slots read row 1).
public final class OPTLearnedPositions: Layer {
    public static let offset = 2
    public let weight: Tensor

    public init(maxPositions: Int, dim: Int, generator: inout RandomGenerator) {
        weight = Initialization.parameter([maxPositions + Self.offset, dim]) {
            Tensor.randn([maxPositions + Self.offset, dim], std: 0.02, generator: &generator)
        }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    /// Position ids for a right- or left-padded mask `[batch, length]`, skipping the first
    /// `past` columns (positions of tokens already in a KV cache).
    public static func ids(mask: [Bool], batch: Int, length: Int, past: Int = 0) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(batch * (length - past))
        for b in 0..<batch {
            var running = 0
            for t in 0..<length {
                let real = mask[b * length + t]
                if real { running += 1 }
                if t >= past { ids.append((real ? running : 0) - 1 + offset) }
            }
        }
        return ids
    }

    /// Embeddings `[batch, length − past, hidden]` for the mask's positions.
    public func callAsFunction(mask: [Bool], batch: Int, length: Int, past: Int = 0) throws -> Tensor {
        try weight.embedding(ids: Self.ids(mask: mask, batch: batch, length: length, past: past), idsShape: [batch, length - past])
    }
}
