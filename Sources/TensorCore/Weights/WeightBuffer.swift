import CPUKernels
import Foundation

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

/// Memory that converted weight matrices share, on 2 MB pages where the system gives them.
///
/// Decoding streams every matrix once per token; on 4 KB pages each 4 KB read costs a TLB miss, a
/// nested page walk in a VM. A matrix needs 4 MB of its own to hold one whole 2 MB page, and most
/// are smaller (OPT-125m's 768×768 in bf16: 1.2 MB), so they are packed one after another into
/// 64 MB slabs (a larger matrix gets a slab of its own), as f32 parameters large enough for whole
/// 2 MB pages already were. Streaming bf16 rows from 2 MB pages ran 1.1× as fast as from 4 KB pages
/// (C harness), OPT-125m's bf16 decode 1.06× (AMD Zen 4 VM, 2 threads; BENCHMARKS.md). A slab is
/// freed with its last buffer; its memory is not reused before that.
final class WeightSlab: @unchecked Sendable {
    static let size = 64 << 20
    static let page = 2 << 20
    private static let lock = NSLock()
    /// The slab new buffers are carved from, while any of its buffers lives.
    nonisolated(unsafe) private static weak var current: WeightSlab?

    let base: UnsafeMutableRawPointer
    let capacity: Int
    private var used = 0                 // guarded by `lock` for the shared slabs

    /// `capacity` bytes, 2 MB-aligned, advised onto 2 MB pages.
    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: Self.page)
        cpu_kernels_advise_huge_pages(base, capacity)
    }

    deinit { base.deallocate() }

    /// The next `bytes` (a multiple of 64) of this slab, or nil when too few are left.
    func take(_ bytes: Int) -> UnsafeMutableRawPointer? {
        guard capacity - used >= bytes else { return nil }
        defer { used += bytes }
        return base + used
    }

    /// `byteCount` bytes (at least one), 64-byte aligned, and the slab that holds them.
    static func carve(_ byteCount: Int) -> (WeightSlab, UnsafeMutableRawPointer) {
        let bytes = (max(byteCount, 1) + 63) & ~63
        if bytes > size / 2 {
            let own = WeightSlab(capacity: (bytes + page - 1) / page * page)
            return (own, own.take(bytes)!)
        }
        lock.lock()
        defer { lock.unlock() }
        if let slab = current, let p = slab.take(bytes) { return (slab, p) }
        let slab = WeightSlab(capacity: size)
        current = slab
        return (slab, slab.take(bytes)!)
    }
}
