import ArgumentParser
import Foundation
import TensorCore

/// `sentencevae bench kernels`: matrix products and element-wise kernels, ours against OpenBLAS.
struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Benchmark matrix products (ours vs OpenBLAS called directly) and element-wise kernels.",
        discussion: """
        Products are x[M,K]·W[N,K]ᵀ, the layout of PyTorch's Linear, unless a --shape names another \
        layout (the backward pass's nn and tn). One-row products (M = 1) are \
        memory-bound and reported in GB/s of weights streamed, as a share of the read bandwidth; the \
        others in GFLOP/s, as a share (ours / OpenBLAS direct) of the CPU's FMA peak measured in the \
        same run, so slow BLAS kernels show even when both sides use them. The OpenBLAS core in use \
        and who chose it (OpenBLAS, sentencevae from the CPU's features, or OPENBLAS_CORETYPE) come \
        first, then whose kernel "ours" runs for products of many rows: sentencevae's sgemm where the \
        CPU has AVX2+FMA (in 512-bit tiles on CPUs that run them at full width), except AVX2 tiles \
        (SENTENCEVAE_AVX2_KERNELS=1) against OpenBLAS's AVX-512 kernels on such a CPU, where \
        OpenBLAS's run. Both sides run in the same process, one after the other, so the ratio is \
        fair on a noisy machine.
        """
    )

    @Option(name: .customLong("shape"), help: """
        A product M,K,N to measure (repeatable), optionally with its layout: M,K,N,nt (default: \
        x[M,K]·W[N,K]ᵀ, a Linear layer), M,K,N,nn (dY[M,K]·W[K,N], its input gradient) or M,K,N,tn \
        (dY[K,M]ᵀ·X[K,N], its weight gradient). Default: the four model shapes.
        """)
    var shapes: [String] = ["1,768,3072", "1,768,50272", "64,768,3072", "512,768,768"]

    @Option(help: "Thread counts to measure, comma-separated.")
    var threads: String = "1,2"

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(help: "Only print the OpenBLAS core in use and who chose it; measure nothing.")
    var coreOnly = false

    func validate() throws {
        _ = try parsedThreads()
        _ = try parsedShapes()
    }

    func parsedThreads() throws -> [Int] {
        try threads.split(separator: ",").map { part -> Int in
            guard let t = Int(part.trimmingCharacters(in: .whitespaces)), t > 0 else {
                throw ValidationError("--threads takes positive integers separated by commas, e.g. 1,2 (got '\(threads)')")
            }
            try checkThreads(t)
            return t
        }
    }

    /// The --shape products, refused when their operands would not fit in memory (a product of
    /// M·K + N·K + M·N floats, and the weight again in each storage format for the second table).
    func parsedShapes() throws -> [(m: Int, k: Int, n: Int, layout: KernelBenchmark.Layout)] {
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        return try shapes.map { text in
            var parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            var layout = KernelBenchmark.Layout.nt
            if parts.count == 4, let named = KernelBenchmark.Layout(rawValue: parts[3].lowercased()) {
                layout = named
                parts.removeLast()
            }
            let numbers = parts.map { Int($0) }
            guard numbers.count == 3, let m = numbers[0], let k = numbers[1], let n = numbers[2], m > 0, k > 0, n > 0 else {
                throw ValidationError("--shape takes three positive integers M,K,N and optionally a layout nt, nn or tn, e.g. 1,768,3072 or 512,3072,768,nn (got '\(text)')")
            }
            let (dm, dk, dn) = (Double(m), Double(k), Double(n))
            let bytes = max(4 * (dm * dk + dn * dk + dm * dn), 4 * (dm * dk + dm * dn) + 11.2 * dn * dk)
            guard bytes <= 0.75 * memory else {
                throw ValidationError("--shape \(text) needs about \(gigabytes(bytes)) of memory for its operands; "
                                      + "this machine has \(gigabytes(memory)). Choose a smaller product.")
            }
            return (m, k, n, layout)
        }
    }

    private func gigabytes(_ bytes: Double) -> String { String(format: "%.1f GB", bytes / 1e9) }

    func run() throws {
        if coreOnly {
            let origin = BLASCore.coreOrigin(environment: ProcessInfo.processInfo.environment)
            print("BLAS: OpenBLAS core \(BLASCore.coreName ?? "not OpenBLAS"), \(origin.rawValue)")
            return
        }
        let threadCounts = try parsedThreads(), parsed = try parsedShapes()

        var products: [KernelBenchmark.ProductResult] = []
        var bandwidth: [Int: Double] = [:]
        var peak: [Int: KernelBenchmark.PeakResult] = [:]
        for t in threadCounts { bandwidth[t] = KernelBenchmark.readBandwidth(threads: t) }
        for t in threadCounts { peak[t] = KernelBenchmark.fmaPeak(threads: t) }
        let core = BLASCore.coreName ?? "not OpenBLAS"
        let origin = BLASCore.coreOrigin(environment: ProcessInfo.processInfo.environment)
        let manyRows = !BLAS.usesOwnSgemm ? "the BLAS's sgemm" : NativeKernels.avx512 ? "sentencevae's AVX-512 sgemm" : "sentencevae's AVX2 sgemm"
        // Each format's one-row kernel, as the products dispatch (`KernelChoice.rowKernel`).
        let oneRow = WeightFormat.allCases.map { format in
            let name = switch KernelChoice.current.rowKernel(for: format) {
            case .portable: format == .f32 ? "the BLAS's sgemv" : "portable Swift"
            case .avx2: "AVX2"
            case .avx512: "AVX-512"
            case .avx512OneRow: "AVX-512, one row at a time"
            case .integer: "AVX-512 VNNI integer dot products"
            }
            return "\(format.rawValue) \(name)"
        }.joined(separator: "; ")
        if !json {
            print("CPU: \(CPUFeatures.current()?.summary ?? "unknown")")
            print("BLAS: OpenBLAS core \(core), \(origin.rawValue)")
            print("Products of many rows (ours): \(manyRows); of one row: \(oneRow)")
            print("FMA peak (register-only \(peak[threadCounts[0]]!.variant) loop, this build): "
                  + threadCounts.map { "\(format(peak[$0]!.gflops)) GFLOP/s at \($0) thread(s) (\(format(peak[$0]!.perThread)) per thread)" }.joined(separator: ", "))
            print("Memory read bandwidth (sum over 512 MB, the faster of 1 and 4 streams per thread): " + threadCounts.map { "\(format(bandwidth[$0]!)) GB/s at \($0) thread(s)" }.joined(separator: ", "))
            print("Products x[M,K]·W[N,K]ᵀ, or the layout named after the shape  (cores: \(ProcessInfo.processInfo.activeProcessorCount))")
            print(pad("M,K,N", 20) + pad("threads", 9) + pad("ours", 18) + pad("OpenBLAS direct", 18) + "ratio")
        }
        for (m, k, n, layout) in parsed {
            for t in threadCounts {
                let r = KernelBenchmark.product(m: m, k: k, n: n, threads: t, layout: layout)
                products.append(r)
                if !json {
                    let fraction = r.ours / bandwidth[t]!
                    // Weights under 64 MB can sit in a server's last-level cache: no DRAM comparison then.
                    let cached = k * n * 4 < 64 << 20
                    let share = r.unit != "GB/s" ? "  (\(Int((r.ours / peak[t]!.gflops * 100).rounded()))% / \(Int((r.openBLAS / peak[t]!.gflops * 100).rounded()))% of FMA peak)" : cached ? "  (weights may fit in cache)" : "  (\(Int((fraction * 100).rounded()))% of read bandwidth)"
                    print(pad("\(m),\(k),\(n)" + (layout == .nt ? "" : ",\(layout.rawValue)"), 20) + pad("\(t)", 9) + pad(format(r.ours) + " " + r.unit, 18)
                          + pad(format(r.openBLAS) + " " + r.unit, 18) + format(r.ratio, digits: 2) + share)
                }
            }
        }
        // The same products with the weights stored as f32, bf16 and q8 (`--weights`).
        var compact: [KernelBenchmark.CompactResult] = []
        if !json { print("\nWeight storage formats (WeightMatrix.product; one-row: GB/s of stored bytes, speed-up in rows/s over f32)") }
        for (m, k, n, layout) in parsed where layout == .nt {  // stored weights are always W[N,K]
            for t in threadCounts {
                let r = try KernelBenchmark.compactProduct(m: m, k: k, n: n, threads: t)
                compact.append(r)
                guard !json, let base = r.seconds["f32"] else { continue }
                let cells = WeightFormat.allCases.compactMap { f -> String? in
                    guard let sec = r.seconds[f.rawValue] else { return nil }
                    let rate = m == 1 ? format(Double(n * k) * f.bytesPerWeight / sec / 1e9) + " GB/s"
                                      : format(2 * Double(m * n * k) / sec / 1e9) + " GFLOP/s"
                    return "\(f.rawValue) \(rate) (\(format(base / sec, digits: 2))×)"
                }
                print(pad("\(m),\(k),\(n)", 20) + pad("\(t)", 9) + cells.joined(separator: "   "))
            }
        }
        let kernels = KernelBenchmark.kernels()
        if json {
            struct Report: Codable {
                let cpu: String
                let blasCore: String
                let blasCoreOrigin: String
                let manyRowProducts: String
                let oneRowKernels: String
                let fmaPeakGFLOPs: [String: Double]
                let readBandwidthGBs: [String: Double]
                let products: [KernelBenchmark.ProductResult]
                let compact: [KernelBenchmark.CompactResult]
                let kernels: [KernelBenchmark.KernelResult]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(Report(cpu: CPUFeatures.current()?.summary ?? "unknown", blasCore: core, blasCoreOrigin: "\(origin)", manyRowProducts: BLAS.usesOwnSgemm ? "sentencevae" : "blas", oneRowKernels: oneRow, fmaPeakGFLOPs: Dictionary(uniqueKeysWithValues: peak.map { ("\($0.key)", $0.value.gflops) }), readBandwidthGBs: Dictionary(uniqueKeysWithValues: bandwidth.map { ("\($0.key)", $0.value) }), products: products, compact: compact, kernels: kernels)), as: UTF8.self))
        } else {
            print("\nElement-wise kernels (one thread)")
            for k in kernels { print(pad(k.name, 22) + format(k.microseconds, digits: 2) + " µs") }
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    private func format(_ x: Double, digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
}
