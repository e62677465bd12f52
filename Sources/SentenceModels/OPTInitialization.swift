import NeuralNet
import TensorCore

extension OPTModel {
    /// transformers' `OPTPreTrainedModel._init_weights`, what `OPTForCausalLM(config)` starts
    /// from: every Linear weight and both embeddings (tokens and positions) drawn from N(0, std),
    /// biases 0, the padding row 0, LayerNorms 1 and 0. The layers' own PyTorch defaults would
    /// leave the token embedding N(0, 1), and since it is also the LM head, the first logits would
    /// have a std of about √hidden: a first loss far above ln(vocabulary) and a wasted warm-up.
    public func initializeAsTransformers(std: Float, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        for (name, tensor) in namedParameters {
            let isLayerNorm = name.contains("layer_norm")
            if tensor.shape.count == 2 {
                for i in 0..<tensor.count { tensor.data[i] = generator.nextNormal() * std }
            } else if name.hasSuffix(".bias"), !isLayerNorm {
                tensor.data.update(repeating: 0, count: tensor.count)
            }
        }
        let dim = embedTokens.weight.shape[1]
        if let pad = embedTokens.paddingIndex { (embedTokens.weight.data + pad * dim).update(repeating: 0, count: dim) }
    }
}
