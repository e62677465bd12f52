/// Reshape (a free view), transpose/permute (a copy into the new order), slices and concatenation.
extension Tensor {
    /// The same elements under a new shape; one dimension may be −1 (inferred). Shares storage.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        guard inferred.count <= 1, newShape.allSatisfy({ $0 >= -1 }) else {
            throw TensorError.invalidShape(op: "reshaped(\(newShape))", shape: shape, reason: "at most one dimension may be -1 and none may be negative otherwise")
        }
        if let at = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw TensorError.invalidShape(op: "reshaped(\(newShape))", shape: shape, reason: "\(count) elements cannot be arranged that way")
            }
            resolved[at] = count / known
        }
        guard Shape.count(resolved) == count else {
            throw TensorError.invalidShape(op: "reshaped(\(newShape))", shape: shape, reason: "\(count) elements cannot be arranged that way")
        }
        let out = Tensor(shape: resolved, storage: storage, offset: offset)
        let inputShape = shape
        return Tensor.record(out, op: "reshaped", inputs: [self]) { g in
            [try g.reshaped(inputShape)]
        }
    }

    /// Reorders the axes: output axis `i` is input axis `order[i]`.
    public func permuted(_ order: [Int]) throws -> Tensor {
        guard order.count == rank, Set(order) == Set(0..<rank) else {
            throw TensorError.invalidArgument(op: "permuted(\(order))", reason: "needs a permutation of 0..<\(rank) for shape \(shape)")
        }
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let inStrides = Shape.strides(shape)
        let gathered = order.map { inStrides[$0] }
        let out = Tensor(uninitializedShape: outShape)
        if out.count > 0 {
            let last = outShape.last!
            let lastStride = gathered.last!
            forEachBroadcastRow(outShape: outShape, aStrides: gathered, bStrides: gathered) { row, offIn, _ in
                let dst = out.data + row * last
                if lastStride == 1 {
                    // The innermost axis stays innermost (head splits): copy whole runs.
                    dst.update(from: data + offIn, count: last)
                } else {
                    var src = data + offIn
                    for j in 0..<last {
                        dst[j] = src.pointee
                        src += lastStride
                    }
                }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return Tensor.record(out, op: "permuted", inputs: [self]) { g in
            [try g.permuted(inverse)]
        }
    }

    /// Swaps two axes (negative axes count from the end).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) throws -> Tensor {
        let a = try Shape.axis(axis0, rank: rank, op: "transposed")
        let b = try Shape.axis(axis1, rank: rank, op: "transposed")
        var order = Array(0..<rank)
        order.swapAt(a, b)
        return try permuted(order)
    }

    /// Elements `range` along `axis`. Along axis 0 this is a view (no copy).
    public func slice(axis: Int, _ range: Range<Int>) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[ax] else {
            throw TensorError.indexOutOfRange(op: "slice(axis: \(axis), \(range)) of shape \(shape)", index: range.upperBound > shape[ax] ? range.upperBound - 1 : range.lowerBound, size: shape[ax])
        }
        var outShape = shape
        outShape[ax] = range.count
        let outer = Shape.count(Array(shape[..<ax]))
        let inner = Shape.count(Array(shape[(ax + 1)...]))
        let out: Tensor
        if outer == 1 {
            out = Tensor(shape: outShape, storage: storage, offset: offset + range.lowerBound * inner)
        } else {
            out = Tensor(uninitializedShape: outShape)
            for o in 0..<outer {
                (out.data + o * range.count * inner).update(from: data + (o * shape[ax] + range.lowerBound) * inner, count: range.count * inner)
            }
        }
        let inputShape = shape
        return Tensor.record(out, op: "slice", inputs: [self]) { g in
            let gx = Tensor.zeros(inputShape)
            for o in 0..<outer {
                (gx.data + (o * inputShape[ax] + range.lowerBound) * inner).update(from: g.data + o * range.count * inner, count: range.count * inner)
            }
            return [gx]
        }
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else {
            throw TensorError.invalidArgument(op: "concat", reason: "needs at least one tensor")
        }
        let ax = try Shape.axis(axis, rank: first.rank, op: "concat")
        for t in tensors.dropFirst() {
            var a = first.shape, b = t.shape
            guard a.count == b.count else { throw TensorError.shapeMismatch(op: "concat(axis: \(axis))", lhs: first.shape, rhs: t.shape) }
            a[ax] = 0; b[ax] = 0
            guard a == b else { throw TensorError.shapeMismatch(op: "concat(axis: \(axis))", lhs: first.shape, rhs: t.shape) }
        }
        let lengths = tensors.map { $0.shape[ax] }
        var outShape = first.shape
        outShape[ax] = lengths.reduce(0, +)
        let outer = Shape.count(Array(first.shape[..<ax]))
        let inner = Shape.count(Array(first.shape[(ax + 1)...]))
        let out = Tensor(uninitializedShape: outShape)
        var start = 0
        for (t, length) in zip(tensors, lengths) {
            for o in 0..<outer {
                (out.data + (o * outShape[ax] + start) * inner).update(from: t.data + o * length * inner, count: length * inner)
            }
            start += length
        }
        return record(out, op: "concat", inputs: tensors) { g in
            var begin = 0
            return try lengths.map { length in
                defer { begin += length }
                return try g.slice(axis: ax, begin..<(begin + length)).copy()
            }
        }
    }
}
