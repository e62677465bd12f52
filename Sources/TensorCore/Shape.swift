/// Shape arithmetic shared by the ops: element counts, row-major strides, NumPy broadcasting.
public enum Shape {
    public static func count(_ shape: [Int]) -> Int {
        shape.reduce(1, *)
    }

    /// Row-major (C-order) strides in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The broadcast shape of `a` and `b` under NumPy/PyTorch rules (align right, 1 stretches).
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw TensorError.shapeMismatch(op: op, lhs: a, rhs: b)
            }
        }
        return out
    }

    /// Strides that read `shape` as if it had been broadcast to `target` (0 on stretched axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let lead = target.count - shape.count
        return (0..<target.count).map { i in
            i < lead || shape[i - lead] == 1 ? 0 : own[i - lead]
        }
    }

    /// Resolves a possibly negative axis (-1 = last) against `rank`.
    public static func axis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < rank else {
            throw TensorError.axisOutOfRange(op: op, axis: axis, rank: rank)
        }
        return resolved
    }
}
