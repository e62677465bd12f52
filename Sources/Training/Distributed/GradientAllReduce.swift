import TensorCore

/// Sums the gradients of every rank into every rank, in one flat buffer (one collective per
/// step, not one per tensor). Each rank's gradient is already weighted by its share of the
/// global batch's tokens, so the sum is the gradient of the global batch.
///
/// A parameter that no backward pass reached has no gradient (AdamW then skips it, as PyTorch
/// does). A rank may lack one that another rank has (its shard had no tokens for that term), so
/// the buffer carries one presence slot per parameter: after the sum a parameter has a gradient
/// on every rank if it had one on any.
final class GradientAllReduce {
    let parameters: [Tensor]
    private var buffer: [Float]
    private let offsets: [Int]

    init(parameters: [Tensor]) {
        self.parameters = parameters
        var offsets: [Int] = []
        var total = parameters.count   // the presence slots come first
        for p in parameters { offsets.append(total); total += p.count }
        self.offsets = offsets
        buffer = [Float](repeating: 0, count: total)
    }

    func run(_ communicator: Communicator) throws {
        guard communicator.size > 1 else { return }
        try buffer.withUnsafeMutableBufferPointer { flat in
            let base = flat.baseAddress!
            for (i, p) in parameters.enumerated() {
                if let g = p.grad {
                    base[i] = 1
                    (base + offsets[i]).update(from: g.data, count: p.count)
                } else {
                    base[i] = 0
                    (base + offsets[i]).update(repeating: 0, count: p.count)
                }
            }
            try communicator.allReduceSum(flat)
            for (i, p) in parameters.enumerated() where base[i] > 0 {
                p.materializedGrad().data.update(from: base + offsets[i], count: p.count)
            }
        }
    }
}
