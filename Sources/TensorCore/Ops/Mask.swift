/// A boolean mask; `true` marks an element to EXCLUDE (PyTorch's `key_padding_mask` and boolean
/// `attn_mask` convention). It broadcasts against the tensor it masks.
public struct Mask: Equatable {
    public let shape: [Int]
    public let values: [Bool]

    public init(shape: [Int], values: [Bool]) throws {
        guard values.count == Shape.count(shape) else {
            throw TensorError.elementCount(op: "Mask(shape: \(shape))", expected: Shape.count(shape), got: values.count)
        }
        self.shape = shape
        self.values = values
    }

    /// The causal mask `[n, n]`: position i may not see j > i.
    public static func causal(_ n: Int) -> Mask {
        var values = [Bool](repeating: false, count: n * n)
        for i in 0..<n { for j in (i + 1)..<n { values[i * n + j] = true } }
        return try! Mask(shape: [n, n], values: values)
    }

    /// Calls `body(i, masked)` for every element of `target` (a shape the mask broadcasts to).
    func forEach(broadcastTo target: [Int], op: String, _ body: (Int, Bool) -> Void) throws {
        let full = try Shape.broadcast(shape, target, op: op)
        guard full == target else { throw TensorError.shapeMismatch(op: op, lhs: target, rhs: shape) }
        let strides = Shape.broadcastStrides(shape, to: target)
        let last = target.last ?? 1
        let lastStride = strides.last ?? 0
        guard Shape.count(target) > 0 else { return }
        values.withUnsafeBufferPointer { m in
            forEachBroadcastRow(outShape: target, aStrides: strides, bStrides: strides) { row, off, _ in
                for j in 0..<last { body(row * last + j, m[off + j * lastStride]) }
            }
        }
    }
}

extension Tensor {
    /// `value` where `mask` is true, `self` elsewhere. No gradient flows to filled elements.
    public func maskedFill(_ mask: Mask, value: Float) throws -> Tensor {
        let out = copy()
        var keep = [Bool](repeating: true, count: count)
        try mask.forEach(broadcastTo: shape, op: "maskedFill") { i, masked in
            if masked {
                out.data[i] = value
                keep[i] = false
            }
        }
        return Tensor.record(out, op: "maskedFill", inputs: [self]) { g in
            let gx = g.copy()
            for i in 0..<gx.count where !keep[i] { gx.data[i] = 0 }
            return [gx]
        }
    }
}
