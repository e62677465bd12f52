/// A cached model that takes new tokens after the ones it holds and returns next-token logits.
public protocol CachedTokenStep: AnyObject {
    func run(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float>
}

extension CachedTokenStep {
    /// Runs `tokens` (a prompt, or one token) and returns the last one's next-token logits.
    @discardableResult
    public func callAsFunction(_ tokens: [Int]) throws -> UnsafeMutablePointer<Float> {
        try tokens.withUnsafeBufferPointer { try run($0) }
    }

    /// One token: the decoding step. Allocates nothing once the buffers are sized.
    @discardableResult
    public func callAsFunction(token: Int) throws -> UnsafeMutablePointer<Float> {
        try withUnsafePointer(to: token) { try run(UnsafeBufferPointer(start: $0, count: 1)) }
    }
}
