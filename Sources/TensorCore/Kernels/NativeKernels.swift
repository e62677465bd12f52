import CPUKernels
import Foundation

/// Whether the C kernels of `CPUKernels` (x86 intrinsics with fused multiply-adds: the bf16 and q8
/// products) replace the portable Swift ones. Swift fuses a multiply and an add only when the whole
/// build targets a CPU with FMA (`-target-cpu`); the C kernels enable AVX2+FMA per function and are
/// picked at run time from cpuid, so one binary runs everywhere. (An FMA exp for softmax was tried
/// and dropped: 35 µs over 50,272 floats, no faster than the Swift softmax's three passes, AMD EPYC.)
public enum NativeKernels {
    /// Whether this CPU has AVX2 and FMA.
    public static let supported = cpu_kernels_available() != 0
    /// Whether the kernels use them. `SENTENCEVAE_PORTABLE_KERNELS=1` keeps the Swift kernels (to
    /// compare the two in `bench`); the tests switch it to check both.
    nonisolated(unsafe) public static var enabled = supported && ProcessInfo.processInfo.environment["SENTENCEVAE_PORTABLE_KERNELS"] != "1"
}
