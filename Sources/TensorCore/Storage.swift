import CPUKernels

/// A reference-counted, 64-byte-aligned block of Float32s. Tensors share one when they are views
/// of each other (reshape, leading-axis slices), so those cost no copy.
public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// The slab that holds a large zeroed block (nil: heap memory).
    private let slab: WeightSlab?

    /// Uninitialised storage; callers must write every element before reading.
    public init(uninitializedCount count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        slab = nil
        cpu_kernels_advise_huge_pages(raw, count * MemoryLayout<Float>.stride)
    }

    public convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// Zeros that cost no memory until written: large blocks are fresh pages of a `WeightSlab`
    /// (on 2 MB pages with their neighbours), which the kernel backs only when touched. Parameters
    /// about to be overwritten by a checkpoint — or kept in a compact format elsewhere
    /// (`WeightMatrix`) and never touched — start like this.
    public init(zeroedCount count: Int) {
        self.count = count
        let bytes = count * MemoryLayout<Float>.stride
        if bytes >= 1 << 18 {
            let (slab, p) = WeightSlab.carve(bytes)
            pointer = p.bindMemory(to: Float.self, capacity: count)
            self.slab = slab
        } else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
            pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: count)
            slab = nil
        }
    }

    deinit {
        if slab == nil { UnsafeMutableRawPointer(pointer).deallocate() }
    }
}
