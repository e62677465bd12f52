/// Element-wise binary ops with NumPy/PyTorch broadcasting, and ops with a scalar.
/// Backward reduces each gradient back to its input's shape (`sum(to:)`).
enum BinaryOp {
    case add, sub, mul, div

    var name: String {
        switch self {
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        }
    }

    @inline(__always)
    func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        }
    }

    @inline(__always)
    func apply(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
        switch self {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        }
    }

    /// One row: `a` and `b` advance by their stride (1, or 0 for a broadcast scalar).
    func row(_ a: UnsafePointer<Float>, _ strideA: Int, _ b: UnsafePointer<Float>, _ strideB: Int,
             _ out: UnsafeMutablePointer<Float>, count n: Int) {
        switch (strideA, strideB) {
        case (1, 1):
            Kernels.map2(a, b, out, count: n, { apply($0, $1) }, { apply($0, $1) })
        case (1, 0):
            let s = b[0], v = FloatVector(repeating: s)
            Kernels.map(a, out, count: n, { apply($0, v) }, { apply($0, s) })
        case (0, 1):
            let s = a[0], v = FloatVector(repeating: s)
            Kernels.map(b, out, count: n, { apply(v, $0) }, { apply(s, $0) })
        default:
            let value = apply(a[0], b[0])
            out.update(repeating: value, count: n)
        }
    }
}

/// Calls `body(outRow, aOffset, bOffset)` for each row (all axes but the last) of the broadcast
/// output, with the element offsets of that row in `a` and `b`.
func forEachBroadcastRow(outShape: [Int], aStrides: [Int], bStrides: [Int], _ body: (Int, Int, Int) -> Void) {
    let rank = outShape.count
    guard rank > 1 else {
        body(0, 0, 0)
        return
    }
    let outer = Shape.count(Array(outShape.dropLast()))
    var index = [Int](repeating: 0, count: rank - 1)
    var offA = 0, offB = 0
    for row in 0..<outer {
        body(row, offA, offB)
        // Advance the multi-index (odometer), updating offsets incrementally.
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            offA += aStrides[axis]
            offB += bStrides[axis]
            if index[axis] < outShape[axis] { break }
            offA -= aStrides[axis] * outShape[axis]
            offB -= bStrides[axis] * outShape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}

func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    let shape = try Shape.broadcast(a.shape, b.shape, op: op.name)
    let out = Tensor(uninitializedShape: shape)
    if a.shape == b.shape {
        op.row(a.data, 1, b.data, 1, out.data, count: out.count)
    } else if out.count > 0 {
        let sa = Shape.broadcastStrides(a.shape, to: shape)
        let sb = Shape.broadcastStrides(b.shape, to: shape)
        let last = shape.last ?? 1
        let lastA = sa.last ?? 0, lastB = sb.last ?? 0
        forEachBroadcastRow(outShape: shape, aStrides: sa, bStrides: sb) { row, offA, offB in
            op.row(a.data + offA, lastA, b.data + offB, lastB, out.data + row * last, count: last)
        }
    }
    return Tensor.record(out, op: op.name, inputs: [a, b]) { g in
        switch op {
        case .add:
            return [try g.sum(to: a.shape), try g.sum(to: b.shape)]
        case .sub:
            return [try g.sum(to: a.shape), try (-g).sum(to: b.shape)]
        case .mul:
            return [a.requiresGrad ? try (g * b).sum(to: a.shape) : nil,
                    b.requiresGrad ? try (g * a).sum(to: b.shape) : nil]
        case .div:
            return [a.requiresGrad ? try (g / b).sum(to: a.shape) : nil,
                    b.requiresGrad ? try (-(g * a) / (b * b)).sum(to: b.shape) : nil]
        }
    }
}

public func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(.add, a, b) }
public func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(.sub, a, b) }
public func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(.mul, a, b) }
public func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(.div, a, b) }

/// `x·scale + shift`, the one scalar kernel behind every tensor-with-scalar operator.
func affine(_ x: Tensor, scale: Float, shift: Float) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    Kernels.affine(x.data, scale: scale, shift: shift, out.data, count: x.count)
    return Tensor.record(out, op: "affine", inputs: [x]) { g in
        [affine(g, scale: scale, shift: 0)]
    }
}

public prefix func - (x: Tensor) -> Tensor { affine(x, scale: -1, shift: 0) }
public func + (x: Tensor, s: Float) -> Tensor { affine(x, scale: 1, shift: s) }
public func + (s: Float, x: Tensor) -> Tensor { affine(x, scale: 1, shift: s) }
public func - (x: Tensor, s: Float) -> Tensor { affine(x, scale: 1, shift: -s) }
public func - (s: Float, x: Tensor) -> Tensor { affine(x, scale: -1, shift: s) }
public func * (x: Tensor, s: Float) -> Tensor { affine(x, scale: s, shift: 0) }
public func * (s: Float, x: Tensor) -> Tensor { affine(x, scale: s, shift: 0) }
public func / (x: Tensor, s: Float) -> Tensor { affine(x, scale: 1 / s, shift: 0) }
