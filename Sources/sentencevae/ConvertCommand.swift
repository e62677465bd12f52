import ArgumentParser
import Foundation
import ModelIO
import SentenceModels
import TensorCore

/// `sentencevae convert IN OUT --weights bf16|q8`: a checkpoint with its big matrices stored
/// compactly, so `llm`/`svae`/`sllm --weights` of the same format read them in place.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Store a checkpoint's weight matrices in bf16 or q8 (safetensors) for --weights.",
        discussion: """
            IN is any checkpoint the other commands read: .safetensors, a torch.save .pth/.bin (the \
            original's mmengine files included), a sharded *.index.json, or an HF OPT directory (its \
            weights come out under OPTForCausalLM names: use the file as `llm --model DIR --checkpoint OUT`). \
            The matrices of the products (every Linear of the OPT and SVAE layers, the SVAE's vocabulary \
            head, OPT's tied embedding) are stored as --weights; LayerNorms, biases, positions and small \
            heads as F32. Layout: bf16 → NAME as BF16 [out, in]; q8 → NAME as I8 [out, in] plus \
            NAME.scales as F16 [out, in/32] (one scale per block of 32 weights along a row, GGUF Q8_0's \
            layout: scale = the smallest fp16 ≥ max|w|/127, w = q·scale); a matrix whose rows are not \
            whole blocks of 32 stays F32. q8 files with F32 scales (converted before) load as they are \
            and stay so through convert; re-convert from the fp32 checkpoint for the smaller scales. \
            The header's __metadata__ records {"sentencevae.weights": FORMAT}. --weights f32 widens a \
            converted file back. Loading OUT with `--weights` of its format needs no conversion: the \
            matrices are read in place from the memory-mapped file.
            """
    )

    @Argument(help: "The checkpoint to convert.")
    var input: String

    @Argument(help: "The .safetensors file to write.")
    var output: String

    @Option(help: "How to store the matrices: bf16, q8 or f32.")
    var weights: WeightFormat

    @Option(name: .customLong("drop-prefix"), help: ArgumentHelp(
        "Leave out the tensors whose names start with this (repeatable).",
        discussion: "E.g. svae. for an SLLM trained with finetune_svae: false: its SVAE is then read from the config's svae.model_path, so a model family stores it once."))
    var dropPrefixes: [String] = []

    func run() throws {
        if ExportCommand.inputFiles(input).contains(where: { ExportCommand.sameFile($0, output) }) {
            throw CLIError("\(output): is the input checkpoint (or one of its files); choose another output path (the input is never overwritten)")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDir), isDir.boolValue {
            throw CLIError("\(output): is a directory; give a file path such as \(output)/model-\(weights.rawValue).safetensors")
        }
        var dict: StateDict
        do {
            if FileManager.default.fileExists(atPath: input, isDirectory: &isDir), isDir.boolValue {
                dict = try HFModelDirectory(path: input).optStateDict()
            } else {
                dict = try loadStateDict(path: input)
            }
        } catch { throw CLIError(error) }
        var dropped = 0
        for prefix in dropPrefixes {
            let kept = dict.all.filter { !$0.name.hasPrefix(prefix) }
            guard kept.count < dict.count else { throw CLIError("\(input): no tensor name starts with '\(prefix)' (--drop-prefix)") }
            dropped += dict.count - kept.count
            dict = StateDict(kept)
        }
        let converted: (tensors: [TensorData], report: StoredMatrices.ConversionReport)
        do { converted = try StoredMatrices.convert(dict, to: weights) } catch { throw CLIError("\(input): \(error)") }
        let report = converted.report
        guard report.matrices.values.reduce(0, +) > 0 else {
            throw CLIError("\(input): no weight matrices found (names ending in q_proj.weight, fc1.weight, in_proj_weight, linear1.weight, "
                + "embed_tokens.weight, …); is it an OPT, SVAE or SLLM checkpoint?")
        }
        do {
            try SafetensorsWriter.write(converted.tensors, metadata: [StoredMatrices.metadataKey: weights.rawValue, "format": "pt"],
                                        alignment: 64, to: output)
        } catch { throw CLIError(error) }
        var summary = "\(report.matrices[weights] ?? 0) matrices as \(weights.rawValue)"
        if weights != .f32, let kept = report.matrices[.f32] { summary += ", \(kept) kept as f32 (rows not whole blocks of 32)" }
        if dropped > 0 { summary += ", \(dropped) tensors left out (" + dropPrefixes.map { $0 + "*" }.joined(separator: ", ") + ")" }
        print("wrote \(output): \(summary), \(report.others) other tensors; " + String(format: "%.3f MB", Double(report.bytes) / 1e6))
    }
}
