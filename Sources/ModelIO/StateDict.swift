/// Tensors by name, in file order: what `model.state_dict()` is in PyTorch.
public struct StateDict: Sendable {
    public private(set) var names: [String] = []
    private var tensors: [String: TensorData] = [:]

    public init() {}

    public init(_ list: [TensorData]) {
        for t in list { self[t.name] = t }
    }

    public var count: Int { names.count }
    public var isEmpty: Bool { names.isEmpty }
    public var all: [TensorData] { names.map { tensors[$0]! } }

    /// Total number of elements: the parameter count.
    public var parameterCount: Int { all.reduce(0) { $0 + $1.elementCount } }

    public subscript(name: String) -> TensorData? {
        get { tensors[name] }
        set {
            if let t = newValue {
                if tensors[name] == nil { names.append(name) }
                tensors[name] = t
            } else if tensors.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    /// The tensor named `name`, or an error that names it.
    public func tensor(_ name: String) throws -> TensorData {
        guard let t = tensors[name] else { throw ModelIOError.missingTensor(name: name) }
        return t
    }

    /// Keeps the tensors whose name starts with `prefix`, with the prefix removed
    /// (e.g. `"svae."` to take the SentenceVAE out of an SLLM checkpoint).
    public func stripping(prefix: String) -> StateDict {
        var out = StateDict()
        for n in names where n.hasPrefix(prefix) {
            let t = tensors[n]!
            let short = String(n.dropFirst(prefix.count))
            out[short] = try! TensorData(name: short, dtype: t.dtype, shape: t.shape, strides: t.strides,
                                         storageOffset: t.storageOffset, storage: t.storage, byteRange: t.byteRange)
        }
        return out
    }

    /// Renames every tensor by prepending `prefix`.
    public func adding(prefix: String) -> StateDict {
        var out = StateDict()
        for t in all {
            let long = prefix + t.name
            out[long] = try! TensorData(name: long, dtype: t.dtype, shape: t.shape, strides: t.strides,
                                        storageOffset: t.storageOffset, storage: t.storage, byteRange: t.byteRange)
        }
        return out
    }

    /// Compares names and shapes against what a model expects, without touching any values.
    public func check(expected: [String: [Int]]) -> StateDictReport {
        var report = StateDictReport()
        for name in expected.keys.sorted() {
            guard let t = tensors[name] else { report.missing.append(name); continue }
            if t.shape != expected[name]! {
                report.shapeMismatched.append(.init(name: name, expected: expected[name]!, found: t.shape))
            }
        }
        report.unexpected = names.filter { expected[$0] == nil }
        return report
    }

    /// `check`, throwing an error that lists every problem unless all names and shapes match.
    /// `allowUnexpected` tolerates extra tensors (e.g. buffers a model recomputes).
    public func validate(expected: [String: [Int]], allowUnexpected: Bool = false) throws {
        var report = check(expected: expected)
        if allowUnexpected { report.unexpected = [] }
        guard report.isClean else { throw ModelIOError.stateDictMismatch(report) }
    }
}

/// What `StateDict.check` found: the same three lists as PyTorch's strict `load_state_dict`.
public struct StateDictReport: Equatable, Sendable, CustomStringConvertible {
    public struct Mismatch: Equatable, Sendable {
        public let name: String
        public let expected: [Int]
        public let found: [Int]
    }

    public var missing: [String] = []
    public var unexpected: [String] = []
    public var shapeMismatched: [Mismatch] = []

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatched.isEmpty }

    public var description: String {
        if isClean { return "all tensors present with the expected shapes" }
        var lines: [String] = []
        if !missing.isEmpty { lines.append("missing (\(missing.count)): " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("unexpected (\(unexpected.count)): " + unexpected.joined(separator: ", ")) }
        if !shapeMismatched.isEmpty {
            lines.append("shape mismatched (\(shapeMismatched.count)): " + shapeMismatched.map {
                "\($0.name) expected \($0.expected) found \($0.found)"
            }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
