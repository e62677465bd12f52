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
    nonisolated(unsafe) public static var enabled: Bool =
        supported && ProcessInfo.processInfo.environment["SENTENCEVAE_PORTABLE_KERNELS"] != "1"

    /// Whether this CPU can run the AVX-512 one-row kernels at all (tests run them wherever it can).
    public static let avx512Supported = cpu_kernels_avx512_available() != 0

    /// Whether the one-row products (fp32, bf16, q8: decoding's weight reads) run their AVX-512
    /// versions (`GemvAVX512.c`), and our sgemm its 512-bit tiles (`SGEMM.c`): only where 512-bit
    /// operations run at full width, since on AMD Zen 4 an AVX-512 q8 kernel streamed from memory
    /// at half the AVX2 one's rate (BENCHMARKS.md), and the four-row order these use is slower
    /// there too.
    /// `SENTENCEVAE_AVX2_KERNELS=1` keeps the AVX2 ones, to compare the two in `bench`. Each call
    /// passes it to the C kernel (`wide`); never true where the CPU lacks them.
    nonisolated(unsafe) public static var avx512: Bool =
        avx512Supported && prefersAVX512(cpu: CPUFeatures.current(), environment: ProcessInfo.processInfo.environment) {
        didSet { if !avx512Supported { avx512 = false } }
    }

    /// Whether bf16 one-row products run the AVX-512 one-row kernel instead of the AVX2 one, on CPUs
    /// that have AVX-512 but split its operations in halves (AMD Zen 4), where the full-width
    /// CPUs' four-stream kernels (`avx512`) are slower: half the instructions a row keeps the
    /// memory busier (OPT-125m bf16 decode 1.09× on Zen 4, BENCHMARKS.md). fp32 keeps its AVX2
    /// kernel there; q8 has its own (`q8VNNI`). Tests switch it to check both.
    nonisolated(unsafe) public static var oneRowBF16AVX512: Bool =
        avx512Supported && prefersOneRowBF16AVX512(cpu: CPUFeatures.current(), environment: ProcessInfo.processInfo.environment) {
        didSet { if !avx512Supported { oneRowBF16AVX512 = false } }
    }

    /// Whether q8 one-row products run as integer dot products (AVX-512 VNNI, `Q8VNNI.c`: x held to
    /// 21 bits of each 32-column block's largest value) where AVX-512 runs in halves (AMD Zen 4):
    /// widening codes to fp32 left that kernel short of the memory's pace there (BENCHMARKS.md).
    /// Full-width CPUs keep their four-stream AVX-512 kernel (`avx512`) until measured. Tests switch
    /// it to check both.
    nonisolated(unsafe) public static var q8VNNI: Bool =
        q8VNNISupported && prefersQ8VNNI(cpu: CPUFeatures.current(), environment: ProcessInfo.processInfo.environment) {
        didSet { if !q8VNNISupported { q8VNNI = false } }
    }

    /// Whether this CPU can run the integer q8 kernel at all (AVX-512 F/BW/VL/DQ and VNNI).
    public static let q8VNNISupported = cpu_kernels_q8_vnni_available() != 0

    /// The rule behind `q8VNNI`: that of `oneRowBF16AVX512`, on a CPU with AVX-512 VNNI.
    static func prefersQ8VNNI(cpu: CPUFeatures?, environment: [String: String]) -> Bool {
        prefersOneRowBF16AVX512(cpu: cpu, environment: environment) && cpu?.has("avx512_vnni") == true
    }

    /// The rule behind `oneRowBF16AVX512`: AVX-512 that does not run at full width, unless
    /// `SENTENCEVAE_AVX2_KERNELS=1`.
    static func prefersOneRowBF16AVX512(cpu: CPUFeatures?, environment: [String: String]) -> Bool {
        guard let cpu else { return false }
        return cpu.hasSkylakeXAVX512 && !cpu.runsAVX512AtFullWidth && environment["SENTENCEVAE_AVX2_KERNELS"] != "1"
    }

    /// The rule behind `avx512`, a pure function of the CPU's facts so tests can ask it about CPUs
    /// this machine is not: yes on Intel's AVX-512 cores and AMD from Zen 5, no on Zen 4, on CPUs
    /// without AVX-512 or unknown, and where `SENTENCEVAE_AVX2_KERNELS=1`.
    static func prefersAVX512(cpu: CPUFeatures?, environment: [String: String]) -> Bool {
        cpu?.runsAVX512AtFullWidth == true && environment["SENTENCEVAE_AVX2_KERNELS"] != "1"
    }
}
