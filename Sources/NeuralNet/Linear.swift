import TensorCore

/// `y = x·Wᵀ + b` with W `[out, in]` (PyTorch `nn.Linear`).
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?

    /// PyTorch's default initialisation: U(−1/√in, 1/√in) for weight and bias.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Initialization.parameter([outFeatures, inFeatures]) {
            Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, generator: &generator)
        }
        self.bias = bias ? Initialization.parameter([outFeatures]) {
            Tensor.uniform([outFeatures], low: -bound, high: bound, generator: &generator)
        } : nil
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.linear(weight: weight, bias: bias)
    }
}

/// Token embedding table `[vocabulary, dim]` (PyTorch `nn.Embedding`, optional `padding_idx`).
public final class Embedding: Layer {
    public let weight: Tensor
    public let paddingIndex: Int?

    /// N(0, 1) like PyTorch, with the padding row zeroed.
    public init(_ vocabulary: Int, _ dim: Int, paddingIndex: Int? = nil, generator: inout RandomGenerator) {
        weight = Initialization.parameter([vocabulary, dim]) { Tensor.randn([vocabulary, dim], generator: &generator) }
        if let paddingIndex { (weight.data + paddingIndex * dim).update(repeating: 0, count: dim) }
        self.paddingIndex = paddingIndex
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    /// `ids` laid out as `shape` (e.g. `[batch, length]`) → `shape + [dim]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) throws -> Tensor {
        try weight.embedding(ids: ids, idsShape: shape, paddingIndex: paddingIndex)
    }
}

/// LayerNorm over the last axis with affine weight and bias (PyTorch `nn.LayerNorm`).
public final class LayerNorm: Layer {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        weight = Tensor.ones([dim])
        bias = Tensor.zeros([dim])
        weight.requiresGrad = true
        bias.requiresGrad = true
        self.eps = eps
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.layerNorm(weight: weight, bias: bias, eps: eps)
    }
}
