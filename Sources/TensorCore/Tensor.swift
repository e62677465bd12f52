/// A dense, row-major Float32 tensor. Storage is always contiguous from `offset`, which makes
/// reshape and leading-axis slices free views and keeps every kernel a flat loop over memory.
///
/// Tensors that take part in autograd carry `requiresGrad`; results of ops on them remember how
/// they were made (`gradFn`) so `backward()` can walk the graph in reverse.
public final class Tensor {
    public let shape: [Int]
    public let storage: Storage
    public let offset: Int
    public let count: Int

    /// Leaves with `requiresGrad` receive `grad` from `backward()`. Set it to `false` to freeze a
    /// parameter: ops on it then record nothing for it.
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf (same shape); `nil` until a backward pass reaches it.
    public internal(set) var grad: Tensor?
    var gradFn: GradFn?

    public init(shape: [Int], storage: Storage, offset: Int = 0, requiresGrad: Bool = false) {
        precondition(offset + Shape.count(shape) <= storage.count, "Tensor view exceeds its storage")
        self.shape = shape
        self.storage = storage
        self.offset = offset
        self.count = Shape.count(shape)
        self.requiresGrad = requiresGrad
    }

    /// A new tensor with uninitialised contents; the caller writes every element.
    public convenience init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: Storage(uninitializedCount: Shape.count(shape)))
    }

    /// A tensor holding `values` in row-major order.
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(op: "Tensor(shape:values:)", shape: shape, reason: "dimensions must be non-negative")
        }
        guard values.count == Shape.count(shape) else {
            throw TensorError.elementCount(op: "Tensor(shape: \(shape), values:)", expected: Shape.count(shape), got: values.count)
        }
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { data.update(from: base, count: values.count) }
        }
        self.requiresGrad = requiresGrad
    }

    /// A 1-element tensor of rank 0.
    public convenience init(scalar: Float) {
        self.init(uninitializedShape: [])
        data[0] = scalar
    }

    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape, storage: Storage(repeating: value, count: Shape.count(shape)))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// `[0, 1, …, n-1]` as Float32.
    public static func arange(_ n: Int) -> Tensor {
        let t = Tensor(uninitializedShape: [n])
        for i in 0..<n { t.data[i] = Float(i) }
        return t
    }

    /// Standard normal samples scaled by `std`, from a seeded generator (same numbers everywhere).
    public static func randn(_ shape: [Int], std: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.data[i] = generator.nextNormal() * std }
        return t
    }

    /// Uniform samples in `[low, high)` from a seeded generator.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.data[i] = low + (high - low) * generator.nextUniform() }
        return t
    }

    /// Pointer to the first element. Valid while the tensor (and so its storage) is alive.
    @inline(__always)
    public var data: UnsafeMutablePointer<Float> { storage.pointer + offset }

    public var rank: Int { shape.count }

    /// The elements in row-major order (a copy).
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The value of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else {
            throw TensorError.invalidShape(op: "item()", shape: shape, reason: "needs exactly one element")
        }
        return data[0]
    }

    /// A detached copy: same values, new storage, no autograd history.
    public func copy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// The same values (shared storage) without autograd history.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, offset: offset)
    }

    /// True when this tensor was made by a recorded op (as opposed to a leaf the user created).
    public var isLeaf: Bool { gradFn == nil }

    /// Forgets the accumulated gradient (call between optimiser steps).
    public func zeroGrad() { grad = nil }

    /// The gradient, created as zeros if no backward pass reached this tensor yet: for code that
    /// brings gradients from elsewhere (data-parallel training sums other ranks' into it).
    public func materializedGrad() -> Tensor {
        if let grad { return grad }
        let g = Tensor.zeros(shape)
        grad = g
        return g
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = values.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
