/// Sums, means and maxima over one axis, and the broadcast/un-broadcast pair that binary ops'
/// gradients need. An axis reduction views the tensor as [outer, axis, inner].
extension Tensor {
    private func split(_ axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (Shape.count(Array(shape[..<axis])), shape[axis], Shape.count(Array(shape[(axis + 1)...])))
    }

    private func reducedShape(_ axis: Int, keepDims: Bool) -> [Int] {
        var s = shape
        if keepDims { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    /// Sum over `axis` (negative counts from the end).
    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "sum(axis:)")
        let (outer, length, inner) = split(ax)
        let out = Tensor.zeros(reducedShape(ax, keepDims: keepDims))
        for o in 0..<outer {
            let dst = out.data + o * inner
            for l in 0..<length {
                Kernels.add(dst, data + (o * length + l) * inner, dst, count: inner)
            }
        }
        let inputShape = shape
        return Tensor.record(out, op: "sum(axis:)", inputs: [self]) { g in
            var kept = inputShape
            kept[ax] = 1
            return [try g.reshaped(kept).broadcast(to: inputShape)]
        }
    }

    /// Sum of all elements, as a rank-0 tensor.
    public func sum() -> Tensor {
        let out = Tensor(scalar: Kernels.sum(data, count: count))
        let inputShape = shape
        return Tensor.record(out, op: "sum()", inputs: [self]) { g in
            [Tensor.full(inputShape, g.data[0])]
        }
    }

    public func mean(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "mean(axis:)")
        return try sum(axis: ax, keepDims: keepDims) / Float(shape[ax])
    }

    public func mean() -> Tensor { sum() / Float(Swift.max(count, 1)) }

    /// Maximum over `axis`. The gradient goes to the first maximal element of each slice.
    public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "max(axis:)")
        let (outer, length, inner) = split(ax)
        guard length > 0 else {
            throw TensorError.invalidShape(op: "max(axis: \(axis))", shape: shape, reason: "the reduced axis is empty")
        }
        let out = Tensor(uninitializedShape: reducedShape(ax, keepDims: keepDims))
        var argmax = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = data[o * length * inner + i], at = 0
                for l in 1..<length where data[(o * length + l) * inner + i] > best {
                    best = data[(o * length + l) * inner + i]
                    at = l
                }
                out.data[o * inner + i] = best
                argmax[o * inner + i] = at
            }
        }
        let inputShape = shape
        return Tensor.record(out, op: "max(axis:)", inputs: [self]) { g in
            let gx = Tensor.zeros(inputShape)
            for o in 0..<outer {
                for i in 0..<inner {
                    gx.data[(o * length + argmax[o * inner + i]) * inner + i] = g.data[o * inner + i]
                }
            }
            return [gx]
        }
    }

    /// Copies the tensor out to `target` under broadcasting rules (size-1 axes stretch).
    public func broadcast(to target: [Int]) throws -> Tensor {
        let full = try Shape.broadcast(shape, target, op: "broadcast(to:)")
        guard full == target else {
            throw TensorError.shapeMismatch(op: "broadcast(to:)", lhs: shape, rhs: target)
        }
        if shape == target { return self }
        let out = Tensor(uninitializedShape: target)
        let strides = Shape.broadcastStrides(shape, to: target)
        let last = target.last ?? 1
        let lastStride = strides.last ?? 0
        if out.count > 0 {
            forEachBroadcastRow(outShape: target, aStrides: strides, bStrides: strides) { row, offIn, _ in
                let dst = out.data + row * last
                if lastStride == 1 {
                    dst.update(from: data + offIn, count: last)
                } else {
                    dst.update(repeating: data[offIn], count: last)
                }
            }
        }
        let inputShape = shape
        return Tensor.record(out, op: "broadcast(to:)", inputs: [self]) { g in
            [try g.sum(to: inputShape)]
        }
    }

    /// Sums over the axes that broadcasting stretched, so a gradient of the broadcast shape comes
    /// back to `target` (the shape of the input that was broadcast).
    public func sum(to target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let full = try Shape.broadcast(target, shape, op: "sum(to:)")
        guard full == shape else {
            throw TensorError.shapeMismatch(op: "sum(to:)", lhs: shape, rhs: target)
        }
        let out = Tensor.zeros(target)
        let strides = Shape.broadcastStrides(target, to: shape)
        let last = shape.last ?? 1
        let lastStride = strides.last ?? 0
        forEachBroadcastRow(outShape: shape, aStrides: strides, bStrides: strides) { row, offOut, _ in
            let src = data + row * last
            if lastStride == 1 {
                Kernels.add(out.data + offOut, src, out.data + offOut, count: last)
            } else {
                out.data[offOut] += Kernels.sum(src, count: last)
            }
        }
        let outShape = shape
        return Tensor.record(out, op: "sum(to:)", inputs: [self]) { g in
            [try g.broadcast(to: outShape)]
        }
    }
}
