import CPUKernels
import Foundation

/// Fresh zeroed memory that weight matrices share, on 2 MB pages where the system gives them: the
/// buffers of converted matrices (`WeightBuffer`) and parameters made to be loaded
/// (`Storage(zeroedCount:)`).
///
/// Decoding streams every matrix once per token; on 4 KB pages each 4 KB read costs a TLB miss, a
/// nested page walk in a VM. A matrix needs 4 MB of its own to hold one whole 2 MB page, and most
/// are smaller (OPT-125m's 768×768: 2.4 MB in fp32, 1.2 MB in bf16), so they are packed one after
/// another into 64 MB slabs (a matrix over 32 MB gets a slab of its own). OPT-125m decoding from
/// slabs ran 1.06× (bf16) and 1.08× (fp32) as fast (AMD Zen 4 VM, 2 threads; BENCHMARKS.md). A slab
/// is freed with its last buffer; its memory is not reused before that.
final class WeightSlab: @unchecked Sendable {
    static let size = 64 << 20
    static let page = 2 << 20
    private static let lock = NSLock()
    /// The slab new buffers are carved from, while any of its buffers lives.
    nonisolated(unsafe) private static weak var current: WeightSlab?

    let base: UnsafeMutableRawPointer
    let capacity: Int
    private var used = 0                 // guarded by `lock` for the shared slabs

    /// `capacity` bytes (a multiple of 2 MB) of zeros, 2 MB-aligned, advised onto 2 MB pages.
    init(capacity: Int) {
        self.capacity = capacity
        guard let p = cpu_kernels_map_huge(capacity) else {
            fatalError("out of memory: the system refused \(capacity >> 20) MB for weights")
        }
        base = p
    }

    deinit { cpu_kernels_unmap(base, capacity) }

    /// The next `bytes` (a multiple of 64) of this slab, or nil when too few are left.
    func take(_ bytes: Int) -> UnsafeMutableRawPointer? {
        guard capacity - used >= bytes else { return nil }
        defer { used += bytes }
        return base + used
    }

    /// `byteCount` bytes (at least one) of zeros never handed out before, 64-byte aligned, and the
    /// slab that holds them.
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
