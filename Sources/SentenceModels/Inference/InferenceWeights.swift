import Foundation
import NeuralNet
import TensorCore

/// The weight matrices the inference paths multiply by. `ModelFactory` fills it when a model is
/// loaded with `--weights bf16|q8`: each big matrix (every Linear of the OPT and SVAE layers, the
/// SVAE's vocabulary head, OPT's tied embedding/LM head) then lives here in its compact format and
/// the model's fp32 tensor for it is left empty. Everything else (LayerNorms, biases, positions,
/// small heads) is read from the model's fp32 tensors, and with `.f32` every matrix is too.
///
/// Training and the autograd forward use the model's tensors and never see this.
public final class InferenceWeights {
    public let format: WeightFormat
    private var stored: [ObjectIdentifier: (parameter: Tensor, matrix: WeightMatrix)] = [:]
    /// Stored matrices read in place from a file mapping (a converted file: no conversion at load).
    public internal(set) var mappedCount = 0

    public init(format: WeightFormat = .f32) {
        self.format = format
    }

    /// Makes `matrix` the inference weights of `parameter` (a 2-D parameter of the model).
    public func set(_ matrix: WeightMatrix, for parameter: Tensor) {
        precondition(parameter.shape == [matrix.rows, matrix.columns], "matrix \(matrix.rows)×\(matrix.columns) for a parameter of shape \(parameter.shape)")
        stored[ObjectIdentifier(parameter)] = (parameter, matrix)
    }

    /// The weights of `parameter`: its compact matrix when one is stored, else the fp32 tensor itself.
    public func matrix(_ parameter: Tensor) -> WeightMatrix {
        stored[ObjectIdentifier(parameter)]?.matrix ?? WeightMatrix(parameter)
    }

    /// Whether `parameter` is held here (its fp32 tensor is then empty).
    public func isStored(_ parameter: Tensor) -> Bool { stored[ObjectIdentifier(parameter)] != nil }

    /// Number of matrices held in a compact format.
    public var storedCount: Int { stored.count }

    /// Bytes of the matrices held here.
    public var storedBytes: Int { stored.values.reduce(0) { $0 + $1.matrix.byteCount } }

    /// Bytes of `model`'s weights as inference reads them: stored matrices at their format's size,
    /// every other parameter as fp32.
    public func bytes(of model: Layer) -> Int {
        model.parameters().reduce(0) { total, p in total + (isStored(p.tensor) ? matrix(p.tensor).byteCount : p.tensor.count * 4) }
    }

    /// A one-line summary for the user, e.g. "weights: q8, 72 matrices (94.1 MB), read in place from the file".
    public var summary: String {
        guard format != .f32, storedCount > 0 else { return "weights: f32" }
        let where_ = mappedCount == storedCount ? "read in place from the file"
            : mappedCount == 0 ? "converted at load (save them with `sentencevae convert` to skip this)"
            : "\(mappedCount) read in place, \(storedCount - mappedCount) converted at load"
        let size = storedBytes < 1_000_000 ? String(format: "%.1f KB", Double(storedBytes) / 1e3) : String(format: "%.1f MB", Double(storedBytes) / 1e6)
        return "weights: \(format.rawValue), \(storedCount) matrices (\(size)), \(where_)"
    }
}

/// A Linear layer as the inference paths run it: its matrix (in whatever format) and fp32 bias.
struct InferenceLinear {
    let weight: WeightMatrix
    let bias: UnsafePointer<Float>?

    init(weight: WeightMatrix, bias: UnsafePointer<Float>?) {
        self.weight = weight
        self.bias = bias
    }

    init(_ layer: Linear, _ weights: InferenceWeights) {
        self.init(weight: weights.matrix(layer.weight), bias: layer.bias.map { UnsafePointer($0.data) })
    }

    var outFeatures: Int { weight.rows }

    /// `out[n, out] = x[n, in]·Wᵀ + b`.
    func callAsFunction(_ x: UnsafePointer<Float>, rows n: Int, _ out: UnsafeMutablePointer<Float>) {
        weight.product(x, rows: n, into: out, bias: bias)
    }
}
