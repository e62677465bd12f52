import Foundation

/// What the CPU is, as the operating system reports it: vendor, family/model and the feature flags
/// (Linux `/proc/cpuinfo` spelling: `avx2`, `fma`, `avx512f`, `avx512_bf16`, `amx_tile`, …).
///
/// A plain value so that decisions made from it (`BLASCore.preferredCoreType`) are pure functions
/// that tests can feed with the facts of CPUs this machine is not.
public struct CPUFeatures: Equatable, Sendable {
    public var vendor: String
    public var family: Int
    public var model: Int
    public var modelName: String
    public var flags: Set<String>

    public init(vendor: String, family: Int, model: Int, modelName: String = "", flags: Set<String>) {
        self.vendor = vendor
        self.family = family
        self.model = model
        self.modelName = modelName
        self.flags = flags
    }

    public var isIntel: Bool { vendor == "GenuineIntel" }
    public var isAMD: Bool { vendor == "AuthenticAMD" || vendor == "HygonGenuine" }
    public func has(_ flag: String) -> Bool { flags.contains(flag) }

    /// The AVX-512 subset OpenBLAS's SkylakeX kernels use (F, CD, BW, DQ, VL).
    public var hasSkylakeXAVX512: Bool { ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(has) }
    /// AVX-512 whose 512-bit FMAs run at full width, so that AVX-512 kernels have twice the FMA
    /// peak of AVX2 ones: Intel's AVX-512 cores, and AMD's from Zen 5 (family 0x1A). Zen 4 (family
    /// 0x19) splits each 512-bit operation into two 256-bit halves, so its peak is AVX2's
    /// (117 GFLOP/s per core measured both ways here).
    public var runsAVX512AtFullWidth: Bool { hasSkylakeXAVX512 && (!isAMD || family >= 0x1A) }
    /// AVX2 with FMA: what OpenBLAS's Haswell and Zen kernels use.
    public var hasAVX2FMA: Bool { has("avx2") && has("fma") }

    /// The CPU in one line for benchmark output, e.g. "Intel(R) Xeon(R) Processor (GenuineIntel
    /// family 6 model 207; AVX-512 at full width)": in VMs the model name is often generic, and the
    /// family/model and vector width are what tell, say, a Sapphire Rapids from a Zen 4.
    public var summary: String {
        let vectors = runsAVX512AtFullWidth ? "AVX-512 at full width"
            : hasSkylakeXAVX512 ? "AVX-512 in 256-bit halves" : hasAVX2FMA ? "AVX2+FMA" : "no AVX2"
        let name = modelName.isEmpty ? "" : modelName + " "
        return name + "(\(vendor) family \(family) model \(model); \(vectors))"
    }

    /// Parses the text of Linux's `/proc/cpuinfo`; the first processor's block is taken (they agree).
    public static func parse(procCPUInfo text: String) -> CPUFeatures? {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !fields.isEmpty { break }  // end of the first processor's block
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        guard let vendor = fields["vendor_id"], let flags = fields["flags"] else { return nil }
        return CPUFeatures(vendor: vendor, family: Int(fields["cpu family"] ?? "") ?? 0, model: Int(fields["model"] ?? "") ?? 0,
                           modelName: fields["model name"] ?? "", flags: Set(flags.split(separator: " ").map(String.init)))
    }

    /// This machine's CPU, or nil where it cannot be read (then nothing is changed). Read once: the
    /// kernel choice, the BLAS start-up check and every `bench` header ask for it.
    public static func current() -> CPUFeatures? { detected }

    private static let detected: CPUFeatures? = {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return parse(procCPUInfo: text)
        #elseif os(macOS)
        return fromSysctl()
        #else
        return nil
        #endif
    }()

    #if os(macOS)
    /// macOS on Intel: `machdep.cpu.*` (feature names upper-case, e.g. `AVX2`, `AVX512F`, `AVX1.0`),
    /// mapped to the Linux spelling. Apple silicon has no `machdep.cpu.vendor`: returns nil.
    /// Not run here (no Mac); keep it this small.
    static func fromSysctl() -> CPUFeatures? {
        func string(_ name: String) -> String? {
            var size = 0
            guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
            var buffer = [CChar](repeating: 0, count: size)
            guard sysctlbyname(name, &buffer, &size, nil, 0) == 0 else { return nil }
            return String(cString: buffer)
        }
        func int(_ name: String) -> Int {
            var value: Int32 = 0
            var size = MemoryLayout<Int32>.size
            return sysctlbyname(name, &value, &size, nil, 0) == 0 ? Int(value) : 0
        }
        guard let vendor = string("machdep.cpu.vendor") else { return nil }
        let words = ((string("machdep.cpu.features") ?? "") + " " + (string("machdep.cpu.leaf7_features") ?? ""))
            .split(separator: " ").map { $0.lowercased() == "avx1.0" ? "avx" : $0.lowercased() }
        return CPUFeatures(vendor: vendor, family: int("machdep.cpu.family"), model: int("machdep.cpu.model"),
                           modelName: string("machdep.cpu.brand_string") ?? "", flags: Set(words))
    }
    #endif
}
