import Foundation

/// Writes PyTorch checkpoints: the file `torch.save({'meta': meta, 'state_dict': OrderedDict(…)}, path)`
/// gives, which `torch.load(path, weights_only=True)` and mmengine read, and so does our
/// `TorchCheckpoint`. Layout: a zip archive `<stem>/data.pkl` (pickle protocol 2),
/// `<stem>/.format_version`, `<stem>/.storage_alignment`, `<stem>/byteorder`, one
/// `<stem>/data/<key>` per storage (raw little-endian, 64-byte aligned) and `<stem>/version`.
///
/// Tensors are rebuilt by `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False,
/// OrderedDict())`, the only callables in the pickle, so the safe loader accepts the file. Tensors
/// that are views of one storage (a tied LM head, a transposed weight read from a .pth) keep their
/// offsets and strides and share one storage, as in the file they came from; anything else is one
/// contiguous storage per tensor. The file is written atomically (see `AtomicFile`).
public enum TorchCheckpointWriter {
    /// Writes `tensors` (in order) as the `state_dict`, and `meta` (e.g. `[("iter", 5000),
    /// ("source", "swift-sentencevae")]`) beside it.
    public static func write(_ tensors: [TensorData], meta: [(key: String, value: PickleLiteral)] = [], to path: String) throws {
        try write(tensors, meta: meta, to: path, zip64Threshold: 0xFFFF_FFFF)
    }

    public static func write(_ stateDict: StateDict, meta: [(key: String, value: PickleLiteral)] = [], to path: String) throws {
        try write(stateDict.all, meta: meta, to: path)
    }

    /// One torch storage: a byte range of a `ByteStorage`, read as `dtype`.
    private struct StorageKey: Hashable {
        let storage: ObjectIdentifier
        let lower: Int, upper: Int
        let dtype: DType
    }

    private struct Storage {
        let tensor: TensorData   // any tensor viewing it; keeps the bytes alive
        let elementCount: Int
    }

    static func write(_ tensors: [TensorData], meta: [(key: String, value: PickleLiteral)], to path: String,
                      zip64Threshold: UInt64) throws {
        var seen = Set<String>()
        for t in tensors where !seen.insert(t.name).inserted {
            throw ModelIOError.io(path: path, reason: "tensor name '\(t.name)' occurs twice; a state dict needs unique names")
        }
        // Group tensors by the storage they view; keys are "0", "1", … in order of first use.
        var keys: [StorageKey: Int] = [:]
        var storages: [Storage] = []
        var storageOf: [Int] = []
        for t in tensors {
            let k = StorageKey(storage: ObjectIdentifier(t.storage), lower: t.byteRange.lowerBound, upper: t.byteRange.upperBound, dtype: t.dtype)
            if let i = keys[k] { storageOf.append(i); continue }
            keys[k] = storages.count
            storageOf.append(storages.count)
            storages.append(Storage(tensor: t, elementCount: t.byteRange.count / t.dtype.byteSize))
        }

        var p = PickleWriter()
        p.dict(count: 2) { p, i in
            if i == 0 {
                p.string("meta")
                p.literal(.dict(meta))
                return
            }
            p.string("state_dict")
            p.global("collections", "OrderedDict")
            p.tuple(count: 0) { _ in }
            p.op(0x52)                                                        // REDUCE: OrderedDict()
            p.setItems(count: tensors.count) { p, j in
                let t = tensors[j], s = storageOf[j]
                p.string(t.name)
                p.global("torch._utils", "_rebuild_tensor_v2")
                p.tuple(count: 6) { p in
                    p.tuple(count: 5) { p in                                  // ('storage', torch.XStorage, key, 'cpu', numel)
                        p.string("storage")
                        p.global("torch", t.dtype.torchStorageName)
                        p.string(String(s))
                        p.string("cpu")
                        p.int(storages[s].elementCount)
                    }
                    p.op(0x51)                                                // BINPERSID
                    p.int(t.storageOffset)
                    p.intTuple(t.shape)
                    p.intTuple(t.strides)
                    p.bool(false)                                             // requires_grad
                    p.global("collections", "OrderedDict")
                    p.tuple(count: 0) { _ in }
                    p.op(0x52)                                                // backward_hooks = OrderedDict()
                }
                p.op(0x52)                                                    // REDUCE: _rebuild_tensor_v2(…)
            }
        }
        let pickle = p.finish()

        let prefix = archiveName(for: path) + "/"
        try AtomicFile.write(to: path) { sink in
            var zip = ZipWriter(sink: sink, path: path, zip64Threshold: zip64Threshold)
            try zip.add(name: prefix + "data.pkl", bytes: pickle)
            try zip.add(name: prefix + ".format_version", bytes: Array("1".utf8))
            try zip.add(name: prefix + ".storage_alignment", bytes: Array(String(ZipWriter.alignment).utf8))
            try zip.add(name: prefix + "byteorder", bytes: Array("little".utf8))
            for (i, s) in storages.enumerated() {
                let t = s.tensor
                let bytes = UnsafeRawBufferPointer(rebasing: t.storage.buffer[t.byteRange.lowerBound..<(t.byteRange.lowerBound + s.elementCount * t.dtype.byteSize)])
                try zip.add(name: prefix + "data/\(i)", data: bytes)
            }
            try zip.add(name: prefix + "version", bytes: Array("3\n".utf8))
            try zip.finish()
        }
    }

    /// The folder name inside the archive: the file name without its extension, as `torch.save`
    /// names it ("archive" when that leaves nothing usable).
    static func archiveName(for path: String) -> String {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let clean = String(stem.unicodeScalars.map { c -> Character in
            c.isASCII && (c.properties.isAlphabetic || c.properties.numericType != nil || "-_.".unicodeScalars.contains(c)) ? Character(c) : "_"
        })
        return clean.isEmpty || clean.hasPrefix(".") ? "archive" : clean
    }
}

extension DType {
    /// The legacy typed-storage class `torch.save` names in its persistent ids.
    var torchStorageName: String {
        switch self {
        case .f64: return "DoubleStorage"
        case .f32: return "FloatStorage"
        case .f16: return "HalfStorage"
        case .bf16: return "BFloat16Storage"
        case .i64: return "LongStorage"
        case .i32: return "IntStorage"
        case .i16: return "ShortStorage"
        case .i8: return "CharStorage"
        case .u8: return "ByteStorage"
        case .bool: return "BoolStorage"
        }
    }
}
