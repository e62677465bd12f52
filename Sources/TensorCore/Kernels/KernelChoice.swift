/// One setting of `NativeKernels`' switches, named, so that decoding's one-row kernels can be timed
/// against each other inside one run (`bench opt --all-kernels`): on the shared VMs two processes a
/// minute apart differ by more than the kernels do, so kernels compared across runs (the
/// `SENTENCEVAE_*_KERNELS` variables) have given contradicting answers.
public struct KernelChoice: Equatable, Sendable {
    public let name: String
    public let enabled, avx512, oneRowBF16AVX512, q8VNNI: Bool

    /// The switches as they are now (the CPU's rule, unless changed since).
    public static var current: KernelChoice {
        KernelChoice(name: "current", enabled: NativeKernels.enabled, avx512: NativeKernels.avx512,
                     oneRowBF16AVX512: NativeKernels.oneRowBF16AVX512, q8VNNI: NativeKernels.q8VNNI)
    }

    /// Sets the switches. Only between products: the pool's tasks read them.
    public func apply() {
        NativeKernels.enabled = enabled
        NativeKernels.avx512 = avx512
        NativeKernels.oneRowBF16AVX512 = oneRowBF16AVX512
        NativeKernels.q8VNNI = q8VNNI
    }

    /// The kernel that runs `format`'s one-row products under these switches: the one place that
    /// says which switch wins (bf16's four rows over its one row, q8's integer kernel over AVX-512).
    /// The products dispatch by it (`WeightKernels`), so `--all-kernels` times what runs.
    public func rowKernel(for format: WeightFormat) -> RowKernel {
        guard enabled else { return .portable }
        switch format {
        case .f32: return avx512 ? .avx512 : .avx2
        case .bf16: return avx512 ? .avx512 : oneRowBF16AVX512 ? .avx512OneRow : .avx2
        case .q8: return q8VNNI ? .integer : avx512 ? .avx512 : .avx2
        }
    }

    /// Whether `other` runs `format`'s one-row products with the same kernel.
    public func sameKernel(as other: KernelChoice, for format: WeightFormat) -> Bool {
        rowKernel(for: format) == other.rowKernel(for: format)
    }

    /// Every kernel this CPU can run for `format`'s one-row products, from the other switches as
    /// they are now: fp32 AVX-512 (four rows) / AVX2; bf16 AVX-512 four rows / AVX-512 one row /
    /// AVX2; q8 integer (VNNI) / AVX-512 / AVX2; and the portable Swift kernels (which also take
    /// attention and, for fp32, leave the products to the BLAS).
    public static func available(for format: WeightFormat) -> [KernelChoice] {
        let now = current
        func choice(_ name: String, enabled: Bool = true, avx512: Bool? = nil, oneRow: Bool? = nil, vnni: Bool? = nil) -> KernelChoice {
            KernelChoice(name: name, enabled: enabled, avx512: avx512 ?? now.avx512,
                         oneRowBF16AVX512: oneRow ?? now.oneRowBF16AVX512, q8VNNI: vnni ?? now.q8VNNI)
        }
        var choices: [KernelChoice] = []
        if NativeKernels.supported {
            switch format {
            case .f32:
                if NativeKernels.avx512Supported { choices.append(choice("avx512", avx512: true)) }
                choices.append(choice("avx2", avx512: false))
            case .bf16:
                if NativeKernels.avx512Supported {
                    choices.append(choice("avx512", avx512: true))
                    choices.append(choice("avx512-row", avx512: false, oneRow: true))
                }
                choices.append(choice("avx2", avx512: false, oneRow: false))
            case .q8:
                if NativeKernels.q8VNNISupported { choices.append(choice("vnni", vnni: true)) }
                if NativeKernels.avx512Supported { choices.append(choice("avx512", avx512: true, vnni: false)) }
                choices.append(choice("avx2", avx512: false, vnni: false))
            }
        }
        choices.append(choice("portable", enabled: false))
        return choices
    }
}

/// The one-row kernels (`KernelChoice.rowKernel(for:)`): `avx512` the 512-bit ones (fp32 four
/// neighbouring rows, bf16 and q8 four streams a quarter apart); `avx512OneRow` bf16's one row at a
/// time; `integer` q8's integer dot products (AVX-512 VNNI, four streams); `portable` the Swift
/// kernels (fp32: the BLAS).
public enum RowKernel: Sendable {
    case portable, avx2, avx512, avx512OneRow, integer
}
