/// Errors a user of the tensor library can cause. Each message names the offending values so the
/// caller can see what to fix without a debugger.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(op: String, lhs: [Int], rhs: [Int])
    case invalidShape(op: String, shape: [Int], reason: String)
    case elementCount(op: String, expected: Int, got: Int)
    case axisOutOfRange(op: String, axis: Int, rank: Int)
    case indexOutOfRange(op: String, index: Int, size: Int)
    case tokenOutOfRange(id: Int, vocabularySize: Int)
    case invalidArgument(op: String, reason: String)
    case notScalar(shape: [Int])
    case noGradient(reason: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, lhs, rhs):
            return "\(op): shapes \(lhs) and \(rhs) do not match"
        case let .invalidShape(op, shape, reason):
            return "\(op): invalid shape \(shape): \(reason)"
        case let .elementCount(op, expected, got):
            return "\(op): expected \(expected) elements, got \(got)"
        case let .axisOutOfRange(op, axis, rank):
            return "\(op): axis \(axis) is out of range for a tensor of rank \(rank)"
        case let .indexOutOfRange(op, index, size):
            return "\(op): index \(index) is out of range 0..<\(size)"
        case let .tokenOutOfRange(id, vocabularySize):
            return "token id \(id) is out of range for a vocabulary of \(vocabularySize) tokens (valid ids: 0...\(vocabularySize - 1))"
        case let .invalidArgument(op, reason):
            return "\(op): \(reason)"
        case let .notScalar(shape):
            return "backward() needs a scalar (one-element) tensor or an explicit gradient; got shape \(shape)"
        case let .noGradient(reason):
            return "backward(): \(reason)"
        }
    }
}
