import Foundation
import TensorCore

/// Which train item the k-th sample of a run is: a pure function of `(seed, k)`.
///
/// Sample k falls in epoch `e = k / trainCount`; each epoch visits every train item once, in a
/// permutation drawn from a seed derived from `(seed, e)`. So a run's data position is just the
/// number of samples it has consumed: resuming needs that count and nothing else, and changing the
/// batch size between runs keeps the order of samples. Eval items (`0..<evalCount`) are never
/// returned.
///
/// The current epoch's permutation is cached (4 bytes per train item); the cache is guarded by a
/// lock, so one sampler can be shared between threads.
public final class TrainingSampler: @unchecked Sendable {
    public let seed: UInt64
    /// Items `evalCount..<count` are the train split.
    public let evalCount: Int
    public let count: Int
    public var trainCount: Int { count - evalCount }

    private let lock = NSLock()
    private var cachedEpoch = -1
    private var permutation: [UInt32] = []

    public init(seed: UInt64, evalCount: Int, count: Int) throws {
        guard evalCount >= 0, count > evalCount else {
            throw DataError.noTrainItems("\(count) items with an eval split of \(evalCount)")
        }
        guard count - evalCount <= Int(UInt32.max) else {
            throw DataError.invalidArgument("a train split of \(count - evalCount) items is more than the sampler's limit of \(UInt32.max)")
        }
        self.seed = seed
        self.evalCount = evalCount
        self.count = count
    }

    /// A sampler over the train split of `source`.
    public convenience init(source: any SampleSource, seed: UInt64) throws {
        try self.init(seed: seed, evalCount: source.evalCount, count: source.count)
    }

    /// The item index (in `evalCount..<count`) of global sample `k` (k ≥ 0).
    public func index(sample k: Int) -> Int {
        precondition(k >= 0, "sample numbers start at 0 (got \(k))")
        let n = trainCount
        let epoch = k / n
        lock.lock()
        defer { lock.unlock() }
        if epoch != cachedEpoch {
            permutation = Self.permutation(count: n, seed: Self.epochSeed(seed: seed, epoch: epoch))
            cachedEpoch = epoch
        }
        return evalCount + Int(permutation[k - epoch * n])
    }

    /// The item indices of the global batch of `step` (0-based): samples
    /// `step·batchSize ..< (step+1)·batchSize`.
    public func indices(step: Int, batchSize: Int) -> [Int] {
        precondition(step >= 0 && batchSize > 0, "step must be ≥ 0 and batchSize > 0 (got \(step), \(batchSize))")
        return (step * batchSize..<(step + 1) * batchSize).map { index(sample: $0) }
    }

    /// `0..<count` in the order of a seeded Fisher–Yates shuffle.
    static func permutation(count: Int, seed: UInt64) -> [UInt32] {
        var p = (0..<count).map { UInt32($0) }
        var generator = RandomGenerator(seed: seed)
        generator.shuffle(&p)
        return p
    }

    /// The seed of epoch `e`'s permutation: SplitMix64's finaliser over the run seed and the epoch,
    /// so neighbouring seeds and epochs give unrelated orders. Changing it changes every order.
    static func epochSeed(seed: UInt64, epoch: Int) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(epoch) &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
