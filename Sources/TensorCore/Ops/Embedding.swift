/// Embedding lookup: rows of a `[vocabulary, dim]` table gathered by token id.
extension Tensor {
    /// Rows of `self` (`[vocabulary, dim]`) for `ids`, giving `idsShape + [dim]`. Ids are checked
    /// against the vocabulary. The backward scatter-adds into the table; the row of `paddingIndex`
    /// gets no gradient (PyTorch's `padding_idx`).
    public func embedding(ids: [Int], idsShape: [Int]? = nil, paddingIndex: Int? = nil) throws -> Tensor {
        guard rank == 2 else {
            throw TensorError.invalidShape(op: "embedding", shape: shape, reason: "the table must be [vocabulary, dim]")
        }
        let vocabulary = shape[0], dim = shape[1]
        let outerShape = idsShape ?? [ids.count]
        guard Shape.count(outerShape) == ids.count else {
            throw TensorError.elementCount(op: "embedding(idsShape: \(outerShape))", expected: Shape.count(outerShape), got: ids.count)
        }
        for id in ids where id < 0 || id >= vocabulary {
            throw TensorError.tokenOutOfRange(id: id, vocabularySize: vocabulary)
        }
        let out = Tensor(uninitializedShape: outerShape + [dim])
        for (i, id) in ids.enumerated() {
            (out.data + i * dim).update(from: data + id * dim, count: dim)
        }
        let table = self
        return Tensor.record(out, op: "embedding", inputs: [table]) { g in
            let gw = Tensor.zeros(table.shape)
            for (i, id) in ids.enumerated() where id != paddingIndex {
                Kernels.add(gw.data + id * dim, g.data + i * dim, gw.data + id * dim, count: dim)
            }
            return [gw]
        }
    }
}
