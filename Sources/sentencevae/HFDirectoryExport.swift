import Foundation
import ModelIO
import SentenceModels

/// `export CHECKPOINT --hf-dir OUT --reference DIR`: a model `train opt` wrote (OPTForCausalLM
/// names, no tied `lm_head`) as a Hugging Face OPT directory — DIR's config.json and tokenizer
/// files plus model.safetensors — which `llm --model`, an SLLM config's `llm.ref_model_dir` (whose
/// layers start the SLLM) and `transformers.OPTForCausalLM.from_pretrained` load.
enum HFDirectoryExport {
    /// The tokenizer files an HF OPT directory may have; vocab.json + merges.txt or tokenizer.json is required.
    static let tokenizerFiles = ["vocab.json", "merges.txt", "tokenizer.json", "special_tokens_map.json", "tokenizer_config.json"]

    /// Writes OUT (replacing a previous directory there only once complete); returns a summary line.
    static func write(checkpoint: String, reference: String, to out: String) throws -> String {
        let fm = FileManager.default
        let config = reference + "/config.json"
        guard fm.fileExists(atPath: config) else {
            throw CLIError("\(reference): has no config.json; --reference is the OPT directory the model was trained from "
                + "(train opt's ref_model_dir, e.g. what Tools/make-reference-dir wrote)")
        }
        let present = tokenizerFiles.filter { fm.fileExists(atPath: reference + "/" + $0) }
        guard present.contains("tokenizer.json") || (present.contains("vocab.json") && present.contains("merges.txt")) else {
            throw CLIError("\(reference): has no tokenizer (vocab.json + merges.txt, or tokenizer.json); "
                + "--reference must hold the tokenizer the model was trained with (train opt's tokenizer_dir)")
        }
        // The checkpoint must be exactly this OPT: every tensor present with its shape, nothing else.
        let loaded: ModelFactory.OPT
        do { loaded = try ModelFactory.opt(path: config, weights: .checkpoint(checkpoint)) } catch {
            throw CLIError("\(checkpoint) does not fit \(config): \(error)")
        }
        let dict = try ModelAssets.stateDict(checkpoint)
        do {
            try AtomicDirectory.write(to: out) { dir in
                try fm.copyItem(atPath: config, toPath: dir + "/config.json")
                for name in present { try fm.copyItem(atPath: reference + "/" + name, toPath: dir + "/" + name) }
                // transformers reads safetensors only with format "pt" in the header's metadata.
                try SafetensorsWriter.write(dict, metadata: ["format": "pt"], to: dir + "/model.safetensors")
                // Read back the way llm --model reads it.
                _ = try ModelFactory.opt(path: dir, weights: .checkpoint(dir))
            }
        } catch let e as CLIError { throw e } catch { throw CLIError(error) }
        let c = loaded.config
        return "wrote \(out): config.json (\(c.numHiddenLayers) layers, hidden \(c.hiddenSize), vocab \(c.vocabSize)), "
            + "model.safetensors (\(dict.count) tensors, \(dict.parameterCount) parameters), " + present.joined(separator: ", ")
    }
}
