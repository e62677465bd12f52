import TensorCore

/// Training-time dropout shared by the layers of one forward pass: the probability, and the
/// seeded generator that draws every mask. Pass `nil` instead for evaluation (identity).
public final class DropoutContext {
    public var generator: RandomGenerator
    public let probability: Float

    public init(probability: Float, seed: UInt64) {
        self.probability = probability
        generator = RandomGenerator(seed: seed)
    }

    func apply(_ x: Tensor) throws -> Tensor {
        try x.dropout(probability, training: true, generator: &generator)
    }
}

extension Optional where Wrapped == DropoutContext {
    /// Dropout when training, the identity otherwise.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard let context = self else { return x }
        return try context.apply(x)
    }
}
