/// A 64-byte-aligned buffer that a converted `WeightMatrix` owns, carved from a `WeightSlab`.
public final class WeightBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int
    let slab: WeightSlab

    public init(byteCount: Int) {
        self.byteCount = byteCount
        (slab, pointer) = WeightSlab.carve(byteCount)
    }
}
