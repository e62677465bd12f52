import Foundation
import TensorCore

/// Perplexity of a model over texts, in evaluation mode (no dropout, no graph).
public struct PerplexityResult: Sendable {
    /// Mean cross-entropy per term over all its elements (token-weighted): the figure to compare
    /// models by.
    public var crossEntropy: [Double]
    /// Elements per term.
    public var counts: [Int]
    /// The original's figure (`data_eval.py`): exp of the mean of the per-batch mean losses of the
    /// last term, not token-weighted.
    public var originalPPL: Double
    public var batches: Int

    /// exp of the last term's token-weighted cross-entropy (the decoded tokens; for the SLLM its
    /// decode term).
    public var ppl: Double { exp(crossEntropy.last ?? .nan) }
}

public enum Perplexity {
    /// With several ranks, batch `b` is evaluated by rank `b mod size` and the sums are combined,
    /// so every rank gets the single-process figures (up to summation order).
    public static func evaluate<O: Objective>(_ objective: O, texts: [String], batchSize: Int,
                                              communicator: Communicator = SingleProcess()) throws -> PerplexityResult {
        let terms = objective.termNames.count
        var sums = [Double](repeating: 0, count: terms)
        var counts = [Int](repeating: 0, count: terms)
        var batchMeans: [Double] = []
        try withNoGrad {
            let starts = Array(stride(from: 0, to: texts.count, by: max(batchSize, 1)))
            for (b, start) in starts.enumerated() where b % communicator.size == communicator.rank {
                let micro = try objective.collate(Array(texts[start..<min(start + batchSize, texts.count)]))
                let terms = try objective.terms(micro, sampleSeeds: nil)
                for (i, t) in terms.enumerated() where t.count > 0 {
                    let ce = Double(try t.crossEntropy.item())
                    sums[i] += ce * Double(t.count)
                    counts[i] += t.count
                }
                if let last = terms.last, last.count > 0 { batchMeans.append(Double(try last.crossEntropy.item())) }
            }
        }
        var meanSum = batchMeans.reduce(0, +), batches = batchMeans.count
        if communicator.size > 1 {
            let combined = try communicator.allReduce(sums + counts.map(Double.init) + [meanSum, Double(batches)], .sum)
            sums = Array(combined[0..<terms])
            counts = combined[terms..<2 * terms].map { Int($0) }
            (meanSum, batches) = (combined[2 * terms], Int(combined[2 * terms + 1]))
        }
        let ce = zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }
        return PerplexityResult(crossEntropy: ce, counts: counts, originalPPL: batches > 0 ? exp(meanSum / Double(batches)) : .nan,
                                batches: batches)
    }
}
