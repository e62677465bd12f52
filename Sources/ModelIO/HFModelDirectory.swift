import Foundation

/// A Hugging Face model directory: `config.json` plus weights as `model.safetensors`,
/// `pytorch_model.bin`, or shards listed in `model.safetensors.index.json` /
/// `pytorch_model.bin.index.json` (safetensors preferred when both exist).
public struct HFModelDirectory {
    public let path: String
    /// The weight files, in load order.
    public let weightFiles: [String]
    /// For sharded weights: tensor name → shard file, from the index.
    public let weightMap: [String: String]

    /// Where the weights come from, in order of preference.
    static let candidates = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"]

    public init(path: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw ModelIOError.io(path: path, reason: "not a directory")
        }
        guard let found = HFModelDirectory.candidates.first(where: { FileManager.default.fileExists(atPath: path + "/" + $0) }) else {
            throw ModelIOError.io(path: path, reason: "no weights: expected one of " + HFModelDirectory.candidates.joined(separator: ", "))
        }
        if found.hasSuffix(".index.json") {
            let (files, map) = try HFModelDirectory.shardIndex(path + "/" + found)
            weightFiles = files.map { path + "/" + $0 }
            weightMap = map
        } else {
            weightFiles = [path + "/" + found]
            weightMap = [:]
        }
    }

    public var configPath: String { path + "/config.json" }

    /// The OPT config from `config.json`.
    public func optConfig() throws -> OPTConfig { try OPTConfig(contentsOf: configPath) }

    /// All weights, shards merged, names as the files have them.
    public func stateDict() throws -> StateDict {
        var out = StateDict()
        for file in weightFiles {
            for t in try loadStateDict(path: file).all {
                guard out[t.name] == nil else {
                    throw ModelIOError.malformed(path: file, reason: "tensor '\(t.name)' also appears in an earlier shard")
                }
                out[t.name] = t
            }
        }
        let absent = weightMap.keys.filter { out[$0] == nil }.sorted()
        guard absent.isEmpty else {
            throw ModelIOError.malformed(path: path, reason: "the shard index lists tensors no shard holds: "
                + absent.prefix(10).joined(separator: ", ") + (absent.count > 10 ? ", … (\(absent.count))" : ""))
        }
        return out
    }

    /// OPT weights under the names `OPTForCausalLM` uses: the hub's facebook/opt-* `.bin` files name
    /// them `decoder.…` (an `OPTModel`), newer saves `model.decoder.…`; both come out as
    /// `model.decoder.…`. A tied `lm_head.weight` is dropped (it is `embed_tokens.weight`).
    public func optStateDict() throws -> StateDict {
        var out = StateDict()
        for t in try stateDict().all {
            var name = t.name
            if name.hasPrefix("decoder.") { name = "model." + name }
            if name == "lm_head.weight" { continue }
            out[name] = try TensorData(name: name, dtype: t.dtype, shape: t.shape, strides: t.strides,
                                       storageOffset: t.storageOffset, storage: t.storage, byteRange: t.byteRange)
        }
        return out
    }

    /// The distinct shard file names of an `*.index.json`, in first-seen order. Names must be plain
    /// file names in the same directory (no path separators), so an index cannot point elsewhere.
    static func shardFiles(index: String) throws -> [String] { try shardIndex(index).files }

    static func shardIndex(_ index: String) throws -> (files: [String], map: [String: String]) {
        guard let data = FileManager.default.contents(atPath: index) else { throw ModelIOError.io(path: index, reason: "cannot read") }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = obj["weight_map"] as? [String: Any] else {
            throw ModelIOError.malformed(path: index, reason: "expected a JSON object with a \"weight_map\" of tensor name → shard file")
        }
        var files: [String] = []
        var names: [String: String] = [:]
        for key in map.keys.sorted() {
            guard let f = map[key] as? String else { throw ModelIOError.malformed(path: index, reason: "weight_map['\(key)'] is not a file name") }
            guard !f.contains("/"), !f.contains("\\"), f != "..", f != ".", !f.isEmpty else {
                throw ModelIOError.malformed(path: index, reason: "shard '\(f)' is not a plain file name in the same directory")
            }
            if !files.contains(f) { files.append(f) }
            names[key] = f
        }
        return (files.sorted(), names)
    }
}

/// Loads the tensors of any supported weights file or HF directory: `.safetensors`, a `torch.save`
/// zip (`.pth`, `.pt`, `.bin`, `.ckpt`, whatever its extension), or a directory.
public func loadStateDict(path: String) throws -> StateDict {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw ModelIOError.io(path: path, reason: "no such file or directory")
    }
    if isDir.boolValue { return try HFModelDirectory(path: path).stateDict() }
    if path.hasSuffix(".index.json") {
        let dir = (path as NSString).deletingLastPathComponent
        var out = StateDict()
        for f in try HFModelDirectory.shardFiles(index: path) {
            for t in try loadStateDict(path: (dir.isEmpty ? "." : dir) + "/" + f).all { out[t.name] = t }
        }
        return out
    }
    let storage = try ByteStorage(mapping: path)
    if ZipArchive.looksLikeZip(storage) { return try TorchCheckpoint(path: path, storage: storage).stateDict() }
    if path.hasSuffix(".safetensors") || (storage.count >= 9 && storage.buffer[8] == UInt8(ascii: "{")) {
        return try SafetensorsFile(path: path, storage: storage).tensors
    }
    // Neither: let the torch reader explain (legacy format, wrong magic).
    return try TorchCheckpoint(path: path, storage: storage).stateDict()
}
