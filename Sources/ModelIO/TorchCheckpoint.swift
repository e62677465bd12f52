/// PyTorch checkpoints as `torch.save` writes them since 1.6: a zip archive holding `<name>/data.pkl`
/// (the pickled object) and `<name>/data/<key>` (one file per storage). This covers the original's
/// mmengine `.pth` files (`{'meta', 'state_dict', 'message_hub', 'optimizer', …}`) and HF
/// `pytorch_model.bin`. Tensors are views into the mapped archive; nothing in the pickle is executed.
public struct TorchCheckpoint {
    public let path: String
    /// The unpickled object, with tensors as `.tensor` references.
    public let root: PickleValue
    private let archive: ZipArchive
    private let prefix: String

    public init(path: String) throws {
        try self.init(path: path, storage: ByteStorage(mapping: path))
    }

    init(path: String, storage: ByteStorage) throws {
        self.path = path
        guard ZipArchive.looksLikeZip(storage) else {
            let b = storage.buffer
            if b.count >= 2, b[0] == 0x80, b[1] <= 5 {
                throw ModelIOError.unsupported(path: path, reason: "this is PyTorch's legacy (pre-1.6, non-zip) checkpoint format; "
                    + "re-save it with torch.save(torch.load(path), path) in PyTorch ≥ 1.6")
            }
            throw ModelIOError.malformed(path: path, reason: "does not start with a zip signature, so it is not a PyTorch "
                + "checkpoint written by torch.save (wrong magic number)")
        }
        let archive = try ZipArchive(path: path, storage: storage)
        guard let pkl = archive.names.first(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }) else {
            throw ModelIOError.malformed(path: path, reason: "zip archive without a data.pkl entry, so not written by torch.save")
        }
        let prefix = String(pkl.dropLast("data.pkl".count))
        if let bo = archive.entries[prefix + "byteorder"] {
            let s = String(decoding: archive.bytes(bo), as: UTF8.self)
            guard s == "little" else {
                throw ModelIOError.unsupported(path: path, reason: "byte order '\(s)'; only little-endian checkpoints are read")
            }
        }
        var storages: [String: PickleStorage] = [:]
        let root = try Pickle.load(archive.bytes(archive.entries[pkl]!), path: path) { pid in
            // ('storage', storage_type, key, location, numel)
            guard case let .tuple(t) = pid, t.count >= 5, t[0].stringValue == "storage",
                  case let .global(_, typeName) = t[1], let key = t[2].stringValue, let numel = t[4].intValue, numel >= 0 else {
                throw ModelIOError.malformed(path: path, reason: "unexpected persistent id \(pid)")
            }
            guard let dtype = DType(torchStorage: typeName) else {
                throw ModelIOError.unsupported(path: path, reason: "storage type \(typeName)")
            }
            if let s = storages[key] { return .storage(s) }
            guard let entry = archive.entries[prefix + "data/" + key] else {
                throw ModelIOError.malformed(path: path, reason: "storage '\(key)' has no data/\(key) entry in the archive (truncated?)")
            }
            let (bytes, o) = numel.multipliedReportingOverflow(by: dtype.byteSize)
            guard !o, bytes <= entry.range.count else {
                throw ModelIOError.malformed(path: path, reason: "storage '\(key)' claims \(numel) elements but data/\(key) has \(entry.range.count) bytes")
            }
            let s = PickleStorage(dtype: dtype, key: key, elementCount: numel)
            storages[key] = s
            return .storage(s)
        }
        self.root = root
        self.archive = archive
        self.prefix = prefix
    }

    /// Turns a tensor reference from the pickle into a view of the archive's bytes.
    public func tensorData(_ t: PickleTensor, name: String) throws -> TensorData {
        let entry = archive.entries[prefix + "data/" + t.storage.key]!
        guard t.size.count == t.stride.count else {
            throw ModelIOError.malformed(path: path, reason: "tensor '\(name)': size \(t.size) and stride \(t.stride) differ in rank")
        }
        let range = entry.range.lowerBound..<(entry.range.lowerBound + t.storage.elementCount * t.storage.dtype.byteSize)
        do {
            return try TensorData(name: name, dtype: t.storage.dtype, shape: t.size, strides: t.stride,
                                  storageOffset: t.storageOffset, storage: archive.storage, byteRange: range)
        } catch let ModelIOError.malformed(_, reason) {
            throw ModelIOError.malformed(path: path, reason: "tensor '\(name)': " + reason)
        }
    }

    /// The model weights: `state_dict` for mmengine checkpoints (also `model`/`module` as other
    /// trainers name it), else the root dict itself (HF `pytorch_model.bin`). Non-tensor entries
    /// are skipped.
    public func stateDict() throws -> StateDict {
        var dict: PickleDict?
        if case let .dict(d) = root {
            dict = d
            for key in ["state_dict", "model", "module"] {
                if case let .dict(inner)? = d[key] { dict = inner; break }
            }
        }
        guard let d = dict else {
            throw ModelIOError.malformed(path: path, reason: "the checkpoint holds \(root), not a dict of tensors")
        }
        var out = StateDict()
        for (k, v) in d.items {
            guard case let .tensor(t) = v else { continue }
            let name = k.stringValue ?? k.description
            out[name] = try tensorData(t, name: name)
        }
        return out
    }

    /// The mmengine `meta` dict (iteration, seed, experiment name…), if present.
    public var meta: PickleValue? { root["meta"] }

    /// The top-level keys, e.g. `meta, state_dict, message_hub, optimizer` for mmengine.
    public var topLevelKeys: [String] {
        if case let .dict(d) = root { return d.stringKeys }
        return []
    }
}
