import CPUKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reference-counted, 64-byte-aligned block of Float32s. Tensors share one when they are views
/// of each other (reshape, leading-axis slices), so those cost no copy.
public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Bytes of an anonymous mapping to unmap (0: heap memory).
    private let mappedBytes: Int

    /// Uninitialised storage; callers must write every element before reading.
    public init(uninitializedCount count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        mappedBytes = 0
        cpu_kernels_advise_huge_pages(raw, count * MemoryLayout<Float>.stride)
    }

    public convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// Zeros that cost no memory until written: large blocks are fresh anonymous pages, which the
    /// kernel backs only when touched. Parameters about to be overwritten by a checkpoint — or kept
    /// in a compact format elsewhere (`WeightMatrix`) and never touched — start like this.
    public init(zeroedCount count: Int) {
        self.count = count
        let bytes = count * MemoryLayout<Float>.stride
        if bytes >= 1 << 18, let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED {
            pointer = p.bindMemory(to: Float.self, capacity: count)
            mappedBytes = bytes
            cpu_kernels_advise_huge_pages(p, bytes)
        } else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
            pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: count)
            mappedBytes = 0
        }
    }

    deinit {
        if mappedBytes > 0 { munmap(UnsafeMutableRawPointer(pointer), mappedBytes) } else { UnsafeMutableRawPointer(pointer).deallocate() }
    }
}
