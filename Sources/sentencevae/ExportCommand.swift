import ArgumentParser
import Foundation
import ModelIO

/// `sentencevae export CHECKPOINT --to FILE.pth`: our weights in the original's PyTorch format.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint as a PyTorch .pth file: {'meta': {...}, 'state_dict': OrderedDict(name → tensor)}.",
        discussion: """
            CHECKPOINT is anything 'inspect' reads (.safetensors, a torch.save .pth/.pt/.bin, a sharded \
            *.index.json, an HF model directory); its tensors are written under their own names, dtypes \
            and shapes, bit for bit. The result is what torch.save writes: torch.load(FILE, weights_only=True) \
            and the original SentenceVAE's mmengine tools load it, and so does this tool. meta holds \
            'iter' (--meta-iter, else the input's own meta iter when it has one) and 'source'. \
            The file is written atomically; the input is never overwritten.
            """
    )

    @Argument(help: "Checkpoint to export.")
    var checkpoint: String

    @Option(name: .customLong("to"), help: "The .pth file to write.")
    var output: String

    @Option(help: "Iteration to record in meta['iter'].")
    var metaIter: Int?

    func validate() throws {
        if let metaIter, metaIter < 0 { throw ValidationError("--meta-iter must be ≥ 0, got \(metaIter)") }
    }

    func run() throws {
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

    /// True when both paths name one file (same device and inode), or the same path before it exists.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return (a as NSString).standardizingPath == (b as NSString).standardizingPath
    }
}
