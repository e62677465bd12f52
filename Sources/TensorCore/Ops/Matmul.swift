/// Matrix products through `BLAS.gemm`: 2-D, batched (shared leading axes), and `linear` with
/// PyTorch's `[out, in]` weight layout so checkpoints load without transposes.
extension Tensor {
    /// `self[…, m, k] · other[…, k, n]`. `other` is either 2-D (shared by every batch entry) or has
    /// the same leading axes. With `transposeOther`, `other` is stored `[…, n, k]` (as attention's
    /// keys are) and is used transposed without a copy.
    public func matmul(_ other: Tensor, transposeOther: Bool = false) throws -> Tensor {
        let op = "matmul"
        guard rank >= 2, other.rank >= 2 else {
            throw TensorError.shapeMismatch(op: "\(op) (both operands need rank ≥ 2)", lhs: shape, rhs: other.shape)
        }
        let m = shape[rank - 2], k = shape[rank - 1]
        let otherK = transposeOther ? other.shape[other.rank - 1] : other.shape[other.rank - 2]
        let n = transposeOther ? other.shape[other.rank - 2] : other.shape[other.rank - 1]
        guard k == otherK else {
            throw TensorError.shapeMismatch(op: "\(op) (inner dimensions differ)", lhs: shape, rhs: other.shape)
        }
        let batchShape = Array(shape.dropLast(2))
        let shared = other.rank == 2
        guard shared || Array(other.shape.dropLast(2)) == batchShape else {
            throw TensorError.shapeMismatch(op: "\(op) (batch dimensions differ)", lhs: shape, rhs: other.shape)
        }
        let out = Tensor(uninitializedShape: batchShape + [m, n])
        let ldb = transposeOther ? k : n
        if shared {
            // Fold the batch into rows: one big product instead of many small ones.
            BLAS.gemm(transA: false, transB: transposeOther, m: Shape.count(batchShape) * m, n: n, k: k,
                      a: data, lda: k, b: other.data, ldb: ldb, c: out.data, ldc: n)
        } else {
            for batch in 0..<Shape.count(batchShape) {
                BLAS.gemm(transA: false, transB: transposeOther, m: m, n: n, k: k,
                          a: data + batch * m * k, lda: k, b: other.data + batch * k * n, ldb: ldb,
                          c: out.data + batch * m * n, ldc: n)
            }
        }
        let a = self
        return Tensor.record(out, op: op, inputs: [a, other]) { g in
            // C = A·B:  dA = dC·Bᵀ, dB = Aᵀ·dC.   C = A·Bᵀ:  dA = dC·B, dB = dCᵀ·A.
            let ga = a.requiresGrad ? try g.matmul(other, transposeOther: !transposeOther) : nil
            var gb: Tensor?
            if other.requiresGrad {
                if shared {
                    let rows = Shape.count(batchShape) * m
                    gb = transposeOther ? Tensor.transposedProduct(g, a, rows: rows, p: n, q: k)
                                        : Tensor.transposedProduct(a, g, rows: rows, p: k, q: n)
                } else {
                    let batches = Shape.count(batchShape)
                    gb = Tensor(uninitializedShape: other.shape)
                    for i in 0..<batches {
                        if transposeOther {
                            Tensor.transposedProduct(g.data + i * m * n, a.data + i * m * k, rows: m, p: n, q: k, into: gb!.data + i * n * k)
                        } else {
                            Tensor.transposedProduct(a.data + i * m * k, g.data + i * m * n, rows: m, p: k, q: n, into: gb!.data + i * k * n)
                        }
                    }
                }
            }
            return [ga, gb]
        }
    }

    /// `self[…, in] · weightᵀ + bias` with `weight` `[out, in]` and `bias` `[out]` (PyTorch's Linear).
    public func linear(weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        guard weight.rank == 2, rank >= 1, shape[rank - 1] == weight.shape[1] else {
            throw TensorError.shapeMismatch(op: "linear (input [..., in] vs weight [out, in])", lhs: shape, rhs: weight.shape)
        }
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        if let bias, bias.shape != [outFeatures] {
            throw TensorError.shapeMismatch(op: "linear (bias must be [out])", lhs: bias.shape, rhs: [outFeatures])
        }
        let rows = count / Swift.max(inFeatures, 1)
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [outFeatures])
        if let bias {
            for r in 0..<rows { (out.data + r * outFeatures).update(from: bias.data, count: outFeatures) }
        }
        BLAS.gemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
                  a: data, lda: inFeatures, b: weight.data, ldb: inFeatures, c: out.data, ldc: outFeatures,
                  accumulate: bias != nil)
        let x = self
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return Tensor.record(out, op: "linear", inputs: inputs) { g in
            let g2 = try g.reshaped([rows, outFeatures])
            let gx = x.requiresGrad ? try g.matmul(weight) : nil
            let gw = weight.requiresGrad ? Tensor.transposedProduct(g2, x, rows: rows, p: outFeatures, q: inFeatures) : nil
            let gbias = bias?.requiresGrad == true ? try g2.sum(axis: 0) : nil
            return [gx, gw, gbias]
        }
    }

    /// `aᵀ·b` for `a` `[rows, p]` and `b` `[rows, q]` (contiguous), through sgemm's transposed-A
    /// mode: the weight gradients of backward passes, without materialising a transpose.
    static func transposedProduct(_ a: Tensor, _ b: Tensor, rows: Int, p: Int, q: Int) -> Tensor {
        let out = Tensor(uninitializedShape: [p, q])
        transposedProduct(a.data, b.data, rows: rows, p: p, q: q, into: out.data)
        return out
    }

    static func transposedProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, p: Int, q: Int,
                                  into out: UnsafeMutablePointer<Float>) {
        BLAS.gemm(transA: true, transB: false, m: p, n: q, k: rows, a: a, lda: p, b: b, ldb: q, c: out, ldc: q)
    }
}
