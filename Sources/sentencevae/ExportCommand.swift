import ArgumentParser
import Foundation
import ModelIO

/// `sentencevae export CHECKPOINT --to FILE.pth`: our weights in the original's PyTorch format;
/// `--hf-dir OUT --reference DIR`: a trained OPT as a Hugging Face directory (`HFDirectoryExport`).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint as a PyTorch .pth file ({'meta', 'state_dict'}), or a trained OPT as an HF directory.",
        discussion: """
            CHECKPOINT is anything 'inspect' reads (.safetensors, a torch.save .pth/.pt/.bin, a sharded \
            *.index.json, an HF model directory); its tensors are written under their own names, dtypes \
            and shapes, bit for bit. The result is what torch.save writes: torch.load(FILE, weights_only=True) \
            and the original SentenceVAE's mmengine tools load it, and so does this tool. meta holds \
            'iter' (--meta-iter, else the input's own meta iter when it has one) and 'source'. \
            The file is written atomically; the input is never overwritten.

            --hf-dir OUT --reference DIR (instead of --to): CHECKPOINT is an OPT that `train opt` \
            wrote (WORKDIR/best.safetensors: OPTForCausalLM names, the LM head tied), DIR the OPT \
            directory it was trained from (config.json and the tokenizer: train opt's ref_model_dir \
            and tokenizer_dir, e.g. from Tools/make-reference-dir). OUT becomes an HF OPT directory: \
            DIR's config.json and tokenizer files plus model.safetensors. `llm --model OUT` runs it, \
            an SLLM config's llm.ref_model_dir: OUT starts the SLLM from its layers, and \
            transformers' OPTForCausalLM.from_pretrained(OUT) loads it. The checkpoint must fit \
            config.json exactly; OUT is written beside itself and replaces a previous OUT only \
            when complete.
            """
    )

    @Argument(help: "Checkpoint to export.")
    var checkpoint: String

    @Option(name: .customLong("to"), help: "The .pth file to write.")
    var output: String?

    @Option(help: "Iteration to record in meta['iter'].")
    var metaIter: Int?

    @Option(name: .customLong("hf-dir"), help: "Write a trained OPT as this HF directory instead (with --reference).")
    var hfDirectory: String?

    @Option(help: "With --hf-dir: the OPT directory the model was trained from (config.json and tokenizer).")
    var reference: String?

    func validate() throws {
        if let metaIter, metaIter < 0 { throw ValidationError("--meta-iter must be ≥ 0, got \(metaIter)") }
        switch (output, hfDirectory) {
        case (nil, nil): throw ValidationError("say what to write: --to FILE.pth, or --hf-dir OUT --reference DIR")
        case (.some, .some): throw ValidationError("--to and --hf-dir are two different exports; give one")
        case (nil, .some):
            if reference == nil { throw ValidationError("--hf-dir needs --reference DIR: the OPT directory (config.json, tokenizer) the model was trained from") }
            if metaIter != nil { throw ValidationError("--meta-iter belongs to --to (the .pth's meta); an HF directory has none") }
        case (.some, nil):
            if reference != nil { throw ValidationError("--reference goes with --hf-dir") }
        }
    }

    func run() throws {
        if let hfDirectory, let reference {
            // OUT is replaced as a whole: nothing it is made from may live inside it.
            for input in Self.inputFiles(checkpoint) + [reference] where Self.isInside(input, hfDirectory) {
                throw CLIError("\(hfDirectory): holds \(input), which the export reads; choose another --hf-dir (inputs are never overwritten)")
            }
            print(try HFDirectoryExport.write(checkpoint: checkpoint, reference: reference, to: hfDirectory))
            return
        }
        guard let output else { return }
        if Self.inputFiles(checkpoint).contains(where: { Self.sameFile($0, output) }) {
            throw CLIError("\(output): is the input checkpoint (or one of its files); choose another --to path "
                + "(the input is never overwritten)")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDir), isDir.boolValue {
            throw CLIError("\(output): is a directory; --to needs a file path such as \(output)/model.pth")
        }
        let dict: StateDict
        do { dict = try loadStateDict(path: checkpoint) } catch { throw CLIError(error) }
        guard !dict.isEmpty else { throw CLIError("\(checkpoint): holds no tensors, so there is nothing to export") }

        var iter = metaIter
        if iter == nil, let ck = try? TorchCheckpoint(path: checkpoint), let i = ck.meta?["iter"]?.intValue { iter = i }
        var meta: [(key: String, value: PickleLiteral)] = []
        if let iter { meta.append(("iter", .int(iter))) }
        meta.append(("source", "swift-sentencevae"))
        do {
            try TorchCheckpointWriter.write(dict, meta: meta, to: output)
            // Read it back: every name, dtype and shape must be there.
            let back = try TorchCheckpoint(path: output).stateDict()
            guard back.names == dict.names, zip(back.all, dict.all).allSatisfy({ $0.dtype == $1.dtype && $0.shape == $1.shape }) else {
                throw CLIError("\(output): reading the written file back gave different tensors; please report this as a bug")
            }
        } catch let e as CLIError { throw e } catch { throw CLIError(error) }
        let dtypes = Set(dict.all.map(\.dtype.rawValue)).sorted().joined(separator: ", ")
        print("wrote \(output): \(dict.count) tensors (\(dtypes)), \(dict.parameterCount) parameters"
            + (iter.map { ", meta iter \($0)" } ?? ""))
    }

    /// The files a checkpoint path reads: itself, an HF directory's weight files, an index's shards.
    static func inputFiles(_ path: String) -> [String] {
        var files = [path]
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            files += (try? HFModelDirectory(path: path).weightFiles) ?? []
        } else if path.hasSuffix(".index.json"), let data = FileManager.default.contents(atPath: path),
                  let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = index["weight_map"] as? [String: String] {
            let dir = (path as NSString).deletingLastPathComponent
            files += Set(map.values).map { ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent($0) }
        }
        return files
    }

    /// True when `path` is `directory` or lies under it (symbolic links resolved).
    static func isInside(_ path: String, _ directory: String) -> Bool {
        let p = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        let d = URL(fileURLWithPath: directory).resolvingSymlinksInPath().standardizedFileURL.path
        return p == d || p.hasPrefix(d.hasSuffix("/") ? d : d + "/")
    }

    /// True when both paths name one file (same device and inode), or the same path before it exists.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return (a as NSString).standardizingPath == (b as NSString).standardizingPath
    }
}
