import TensorCore

/// Training-time dropout shared by the layers of one forward pass. Pass `nil` instead for
/// evaluation (identity).
///
/// Masks are counter-based: whether element (c₁, …, cₙ) of a sample is dropped at the k-th dropout
/// call of the pass is a hash of (the sample's seed, k, c₁, …, cₙ). A sample therefore gets the same
/// masks whichever batch it is in, at whichever row, and however long the batch is padded: a split
/// into micro-batches (gradient accumulation) or ranks changes nothing. Padding only appends
/// coordinates, so the masks of real positions never depend on it.
public final class DropoutContext {
    public let probability: Float
    /// One seed per sample: row b of every tensor uses `sampleSeeds[b]` (a batch of one sample
    /// too), or with `init(probability:seed:)` the whole tensor is one sample (e.g. one SLLM
    /// passage whose rows are sentences).
    public let sampleSeeds: [UInt64]
    /// True when rows are samples; false when the whole tensor is one.
    let perRow: Bool
    private var calls: UInt64 = 0

    /// Rows of every tensor are the samples, seeded by `sampleSeeds`.
    public init(probability: Float, sampleSeeds: [UInt64]) {
        precondition(!sampleSeeds.isEmpty, "DropoutContext needs at least one sample seed")
        self.probability = probability
        self.sampleSeeds = sampleSeeds
        perRow = true
    }

    /// The whole tensor is one sample with this seed.
    public init(probability: Float, seed: UInt64) {
        self.probability = probability
        sampleSeeds = [seed]
        perRow = false
    }

    /// The seed of sample `index` of the global batch at `step` of a run seeded with `seed`.
    public static func sampleSeed(runSeed seed: UInt64, step: Int, index: Int) -> UInt64 {
        mix(mix(mix(seed ^ 0x5DEE_CE66_D1CE_4E5B) ^ UInt64(truncatingIfNeeded: step)) ^ UInt64(truncatingIfNeeded: index))
    }

    func apply(_ x: Tensor) throws -> Tensor {
        guard probability > 0 else { return x }
        guard probability < 1 else {
            throw TensorError.invalidArgument(op: "dropout", reason: "probability \(probability) must be in [0, 1)")
        }
        calls += 1
        if perRow, x.rank == 0 || x.shape[0] != sampleSeeds.count {
            throw TensorError.invalidArgument(op: "dropout", reason: "tensor \(x.shape) does not have one row per sample (\(sampleSeeds.count) samples)")
        }
        let mask = Tensor(uninitializedShape: x.shape)
        let scale = 1 / (1 - probability)
        // Drop when the hash's top 24 bits, as a uniform in [0, 1), fall below p.
        let threshold = UInt64((Double(probability) * 16_777_216).rounded(.up))
        let rows = perRow ? x.shape[0] : 1
        let dims = perRow ? Array(x.shape.dropFirst()) : x.shape    // a sample's coordinates
        let inner = x.count / Swift.max(rows, 1)
        let last = dims.last ?? 1
        for r in 0..<rows {
            let base = Self.mix((perRow ? sampleSeeds[r] : sampleSeeds[0]) ^ Self.mix(calls))
            // Row-major walk: one prefix hash per outer coordinates, one mix per element.
            var coords = [Int](repeating: 0, count: Swift.max(dims.count - 1, 0))
            for o in 0..<(last == 0 ? 0 : inner / last) {
                var h = base
                for c in coords { h = Self.mix(h ^ (UInt64(c) &+ 0x9E37_79B9_7F4A_7C15)) }
                let out = mask.data + r * inner + o * last
                for j in 0..<last {
                    out[j] = (Self.mix(h ^ UInt64(j)) >> 40) < threshold ? 0 : scale
                }
                var d = coords.count - 1
                while d >= 0 {
                    coords[d] += 1
                    if coords[d] < dims[d] { break }
                    coords[d] = 0
                    d -= 1
                }
            }
        }
        return try x * mask
    }

    /// SplitMix64's finaliser: a good 64-bit mixer.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Optional where Wrapped == DropoutContext {
    /// Dropout when training, the identity otherwise.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard let context = self else { return x }
        return try context.apply(x)
    }
}
