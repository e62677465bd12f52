import TensorCore

/// How new layers fill their parameters. Training starts from PyTorch-style random values; a model
/// about to load a checkpoint (whose strict load overwrites every parameter) skips the draw, which
/// otherwise costs seconds for a billion parameters.
public enum Initialization {
    @TaskLocal static var random = true

    /// A parameter tensor: `draw` when initialising randomly, zeros otherwise (untouched pages, so
    /// a matrix a checkpoint supplies in a compact format costs no fp32 memory). Either way it is
    /// trainable (`requiresGrad`).
    public static func parameter(_ shape: [Int], _ draw: () -> Tensor) -> Tensor {
        let t = random ? draw() : Tensor(shape: shape, storage: Storage(zeroedCount: Shape.count(shape)))
        t.requiresGrad = true
        return t
    }
}

/// Builds layers inside `body` without drawing random weights (load a checkpoint into them next).
public func withoutRandomInitialization<R>(_ body: () throws -> R) rethrows -> R {
    try Initialization.$random.withValue(false, operation: body)
}
