import Foundation
import TensorCore

/// The fixed Vaswani table of the original's `PositionalEncodding`: `pe[p, 2i] = sin(p·wᵢ)`,
/// `pe[p, 2i+1] = cos(p·wᵢ)`, `wᵢ = exp(−2i·ln(10000)/dim)`, computed in Float32 as PyTorch does.
public enum SinusoidalPositions {
    public static func table(length: Int, dim: Int) throws -> Tensor {
        guard dim % 2 == 0 else {
            throw TensorError.invalidArgument(op: "SinusoidalPositions", reason: "hidden size \(dim) must be even for sin/cos positions")
        }
        let t = Tensor(uninitializedShape: [length, dim])
        let scale = -Float(Foundation.log(10000.0)) / Float(dim)
        for i in 0..<(dim / 2) {
            let frequency = Foundation.exp(Float(2 * i) * scale)
            for p in 0..<length {
                let angle = Float(p) * frequency
                t.data[p * dim + 2 * i] = Foundation.sin(angle)
                t.data[p * dim + 2 * i + 1] = Foundation.cos(angle)
            }
        }
        return t
    }
}
