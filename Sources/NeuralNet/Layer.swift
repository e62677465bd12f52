import TensorCore

/// A layer owns parameter tensors under the names PyTorch's state dict gives them, relative to
/// the layer (`weight`, `self_attn.in_proj_weight`, …), so checkpoints map 1:1.
public protocol Layer: AnyObject {
    /// Parameters, named as in the PyTorch module's `state_dict()`.
    var namedParameters: [(name: String, tensor: Tensor)] { get }
}

/// A layer that holds other layers under a name (PyTorch submodules).
public func prefixed(_ prefix: String, _ layer: Layer) -> [(name: String, tensor: Tensor)] {
    layer.namedParameters.map { (prefix + "." + $0.name, $0.tensor) }
}

public enum LayerError: Error, CustomStringConvertible {
    case missing([String])
    case shapeMismatch(name: String, expected: [Int], got: [Int])

    public var description: String {
        switch self {
        case let .missing(names):
            return "missing parameters: \(names.joined(separator: ", "))"
        case let .shapeMismatch(name, expected, got):
            return "parameter \(name): the model expects shape \(expected), the weights have \(got)"
        }
    }
}

extension Layer {
    /// Every parameter with its full name under `prefix` (e.g. "encoder.").
    public func parameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        namedParameters.map { (prefix + $0.name, $0.tensor) }
    }

    /// Copies `weights[prefix + name]` into each parameter. Every parameter must be present with
    /// its exact shape; the error lists all missing names at once.
    public func load(_ weights: [String: Tensor], prefix: String = "") throws {
        var missing: [String] = []
        for (name, parameter) in namedParameters {
            guard let source = weights[prefix + name] else {
                missing.append(prefix + name)
                continue
            }
            guard source.shape == parameter.shape else {
                throw LayerError.shapeMismatch(name: prefix + name, expected: parameter.shape, got: source.shape)
            }
            parameter.data.update(from: source.data, count: parameter.count)
        }
        if !missing.isEmpty { throw LayerError.missing(missing) }
    }

    /// Sets `requiresGrad` on every parameter (train or freeze the whole layer).
    public func setTrainable(_ trainable: Bool) {
        for (_, p) in namedParameters { p.requiresGrad = trainable }
    }

    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.tensor.count } }
}
