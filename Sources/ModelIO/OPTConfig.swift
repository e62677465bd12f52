import Foundation

/// The fields of a Hugging Face OPT `config.json` that the models use. Missing optional fields take
/// transformers' `OPTConfig` defaults; missing required ones are an error naming the key.
public struct OPTConfig: Equatable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var ffnDim: Int
    public var numAttentionHeads: Int
    public var numHiddenLayers: Int
    public var maxPositionEmbeddings: Int
    /// Token embedding width; differs from `hiddenSize` in OPT-350m (512 vs 1024: project_in/out).
    public var wordEmbedProjDim: Int
    /// Pre-LN (125m, 1.3b) or post-LN (350m).
    public var doLayerNormBefore: Bool
    public var padTokenId: Int
    public var bosTokenId: Int
    public var eosTokenId: Int
    public var dropout: Double
    public var attentionDropout: Double
    public var activationFunction: String
    public var enableBias: Bool
    public var layerNormElementwiseAffine: Bool
    public var tieWordEmbeddings: Bool
    /// `init_std`: the std of transformers' initialisation of a new model (0.02 in every OPT).
    public var initStd: Double
    /// `torch_dtype` (older transformers) or `dtype` (newer), e.g. "float16"; nil if absent.
    public var torchDtype: String?

    public init(json data: Data, path: String) throws {
        guard let obj = try? JSONSerialization.jsonObject(with: data), let d = obj as? [String: Any] else {
            throw ModelIOError.config(file: path, key: "", reason: "not a JSON object")
        }
        func int(_ k: String, _ def: Int? = nil) throws -> Int {
            guard let v = d[k], !(v is NSNull) else {
                if let def { return def }
                throw ModelIOError.config(file: path, key: k, reason: "missing (required for an OPT model)")
            }
            guard let i = v as? Int, !isJSONBool(v) else { throw ModelIOError.config(file: path, key: k, reason: "expected an integer, found \(v)") }
            return i
        }
        func double(_ k: String, _ def: Double) throws -> Double {
            guard let v = d[k], !(v is NSNull) else { return def }
            guard let x = v as? Double else { throw ModelIOError.config(file: path, key: k, reason: "expected a number, found \(v)") }
            return x
        }
        func bool(_ k: String, _ def: Bool) throws -> Bool {
            guard let v = d[k], !(v is NSNull) else { return def }
            guard isJSONBool(v), let b = v as? Bool else { throw ModelIOError.config(file: path, key: k, reason: "expected true/false, found \(v)") }
            return b
        }
        if let mt = d["model_type"] as? String, mt != "opt" {
            throw ModelIOError.config(file: path, key: "model_type", reason: "is '\(mt)'; only OPT models ('opt') are supported")
        }
        vocabSize = try int("vocab_size")
        hiddenSize = try int("hidden_size")
        ffnDim = try int("ffn_dim")
        numAttentionHeads = try int("num_attention_heads")
        numHiddenLayers = try int("num_hidden_layers")
        maxPositionEmbeddings = try int("max_position_embeddings")
        wordEmbedProjDim = try int("word_embed_proj_dim", hiddenSize)
        doLayerNormBefore = try bool("do_layer_norm_before", true)
        padTokenId = try int("pad_token_id", 1)
        bosTokenId = try int("bos_token_id", 2)
        eosTokenId = try int("eos_token_id", 2)
        dropout = try double("dropout", 0.1)
        attentionDropout = try double("attention_dropout", 0)
        activationFunction = (d["activation_function"] as? String) ?? "relu"
        enableBias = try bool("enable_bias", true)
        layerNormElementwiseAffine = try bool("layer_norm_elementwise_affine", true)
        tieWordEmbeddings = try bool("tie_word_embeddings", true)
        initStd = try double("init_std", 0.02)
        torchDtype = (d["torch_dtype"] as? String) ?? (d["dtype"] as? String)
        for (k, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("ffn_dim", ffnDim),
                       ("num_attention_heads", numAttentionHeads), ("num_hidden_layers", numHiddenLayers),
                       ("max_position_embeddings", maxPositionEmbeddings), ("word_embed_proj_dim", wordEmbedProjDim)] where v <= 0 {
            throw ModelIOError.config(file: path, key: k, reason: "must be positive, found \(v)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw ModelIOError.config(file: path, key: "num_attention_heads",
                                      reason: "hidden_size \(hiddenSize) is not divisible by \(numAttentionHeads) heads")
        }
    }

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelIOError.io(path: path, reason: "cannot read the file")
        }
        try self.init(json: data, path: path)
    }

    /// Parameter names and shapes of `OPTForCausalLM` with this config (HF naming, `model.decoder.…`),
    /// without `lm_head.weight`, which is tied to the token embedding. For `StateDict.check`.
    public var expectedShapes: [String: [Int]] {
        let h = hiddenSize, p = "model.decoder."
        var s: [String: [Int]] = [
            p + "embed_tokens.weight": [vocabSize, wordEmbedProjDim],
            p + "embed_positions.weight": [maxPositionEmbeddings + 2, h],
        ]
        if wordEmbedProjDim != h {
            s[p + "project_in.weight"] = [h, wordEmbedProjDim]
            s[p + "project_out.weight"] = [wordEmbedProjDim, h]
        }
        if doLayerNormBefore {
            s[p + "final_layer_norm.weight"] = [h]
            s[p + "final_layer_norm.bias"] = [h]
        }
        for i in 0..<numHiddenLayers {
            let l = p + "layers.\(i)."
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                s[l + "self_attn.\(proj).weight"] = [h, h]
                s[l + "self_attn.\(proj).bias"] = [h]
            }
            s[l + "self_attn_layer_norm.weight"] = [h]; s[l + "self_attn_layer_norm.bias"] = [h]
            s[l + "fc1.weight"] = [ffnDim, h]; s[l + "fc1.bias"] = [ffnDim]
            s[l + "fc2.weight"] = [h, ffnDim]; s[l + "fc2.bias"] = [h]
            s[l + "final_layer_norm.weight"] = [h]; s[l + "final_layer_norm.bias"] = [h]
        }
        return s
    }
}

/// JSONSerialization gives booleans as NSNumbers that also convert to Int (and 0/1 to Bool), so
/// tell them apart by their type encoding.
func isJSONBool(_ v: Any) -> Bool {
    if let n = v as? NSNumber { return String(cString: n.objCType) == "c" }
    return v is Bool
}
