/// Inverted dropout: in training, zero each element with probability `p` and scale the rest by
/// 1/(1−p); in evaluation, the identity. The mask comes from the caller's seeded generator.
extension Tensor {
    public func dropout(_ p: Float, training: Bool, generator: inout RandomGenerator) throws -> Tensor {
        guard p >= 0, p < 1 else {
            throw TensorError.invalidArgument(op: "dropout", reason: "probability \(p) must be in [0, 1)")
        }
        guard training, p > 0 else { return self }
        let scale = 1 / (1 - p)
        let mask = Tensor(uninitializedShape: shape)
        for i in 0..<count { mask.data[i] = generator.nextBernoulli(p) ? 0 : scale }
        let out = Tensor(uninitializedShape: shape)
        Kernels.mul(data, mask.data, out.data, count: count)
        return Tensor.record(out, op: "dropout", inputs: [self]) { g in [try g * mask] }
    }
}
