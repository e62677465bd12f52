import Foundation

/// A Python pickle reader that understands what state dicts need and executes nothing.
///
/// Python's unpickler calls whatever callable a file names; a checkpoint from the internet can run
/// `os.system` that way. This one is a plain stack machine over the opcodes of protocols 0–5: the
/// only globals it accepts are those on `Pickle.allowlist`, and their meaning is implemented here
/// (an `OrderedDict` becomes a dict, `torch._utils._rebuild_tensor_v2` a tensor reference). Any other
/// global stops the load with an error that names it. Lengths read from the file are checked
/// against the bytes that remain before anything is allocated.

/// A value in a pickle. Lists and dicts are reference types because pickles mutate them after
/// memoising them (`EMPTY_DICT; BINPUT; … SETITEMS`).
public indirect enum PickleValue: CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer that does not fit in 64 bits: its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list(PickleList)
    case tuple([PickleValue])
    case dict(PickleDict)
    /// An allowlisted global that has not been called (e.g. `torch.float32`).
    case global(module: String, name: String)
    /// A storage loaded through a persistent id (torch: `('storage', torch.FloatStorage, key, location, numel)`).
    case storage(PickleStorage)
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)`.
    case tensor(PickleTensor)
    /// An allowlisted data object kept opaque (numpy arrays, mmengine log buffers): its type, args and state.
    case object(PickleObject)

    public var description: String { describe(depth: 0) }

    /// A short rendering; nesting past 3 levels prints as `…` (values from a file may nest deeply).
    func describe(depth: Int) -> String {
        if depth > 3 { return "…" }
        func d(_ v: PickleValue) -> String { v.describe(depth: depth + 1) }
        switch self {
        case .none: return "None"
        case let .bool(b): return b ? "True" : "False"
        case let .int(i): return String(i)
        case let .bigInt(b): return "<\(b.count * 8)-bit int>"
        case let .float(d): return String(d)
        case let .string(s):
            let short = s.count > 60 ? s.prefix(60) + "…" : Substring(s)
            return "'" + short.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n") + "'"
        case let .bytes(b): return "b<\(b.count) bytes>"
        case let .list(l): return "[" + l.items.prefix(8).map(d).joined(separator: ", ") + (l.items.count > 8 ? ", …]" : "]")
        case let .tuple(t): return "(" + t.prefix(8).map(d).joined(separator: ", ") + (t.count > 8 ? ", …)" : ")")
        case let .dict(x): return "{" + x.items.prefix(8).map { "\(d($0.key)): \(d($0.value))" }.joined(separator: ", ") + (x.items.count > 8 ? ", …}" : "}")
        case let .global(m, n): return "\(m).\(n)"
        case let .storage(s): return "<storage \(s.key) \(s.dtype.rawValue)>"
        case let .tensor(t): return "<tensor \(t.storage.dtype.rawValue) \(t.size)>"
        case let .object(o): return "<\(o.type)>"
        }
    }

    /// The dict's value for a string key.
    public subscript(key: String) -> PickleValue? {
        if case let .dict(d) = self { return d[key] }
        return nil
    }

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var intValue: Int? { if case let .int(i) = self { return i }; return nil }
    public var doubleValue: Double? {
        switch self {
        case let .float(d): return d
        case let .int(i): return Double(i)
        default: return nil
        }
    }
}

public final class PickleList {
    public internal(set) var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// An insertion-ordered dict (Python dicts keep order; `OrderedDict` is one too).
public final class PickleDict {
    public internal(set) var items: [(key: PickleValue, value: PickleValue)] = []
    private var index: [String: Int] = [:]

    init() {}

    /// A hashable stand-in for keys: strings and ints are what state dicts use.
    private static func keyID(_ k: PickleValue) -> String {
        switch k {
        case let .string(s): return "s" + s
        case let .int(i): return "i\(i)"
        case let .bool(b): return "i\(b ? 1 : 0)"
        case let .float(d): return d == d.rounded() && abs(d) < 9e18 ? "i\(Int(d))" : "f\(d)"
        case .none: return "n"
        case let .tuple(t): return "t(" + t.map(keyID).joined(separator: ",") + ")"
        default: return "o\(k)"
        }
    }

    func removeAll() { items = []; index = [:] }

    func set(_ key: PickleValue, _ value: PickleValue) {
        let id = PickleDict.keyID(key)
        if let i = index[id] { items[i].value = value } else {
            index[id] = items.count
            items.append((key, value))
        }
    }

    public subscript(key: String) -> PickleValue? {
        index["s" + key].map { items[$0].value }
    }

    public var stringKeys: [String] { items.compactMap { $0.key.stringValue } }
}

public final class PickleStorage {
    public let dtype: DType
    public let key: String
    public let elementCount: Int
    init(dtype: DType, key: String, elementCount: Int) { self.dtype = dtype; self.key = key; self.elementCount = elementCount }
}

public struct PickleTensor {
    public let storage: PickleStorage
    public let storageOffset: Int
    public let size: [Int]
    public let stride: [Int]
}

public final class PickleObject {
    public let type: String
    public internal(set) var args: [PickleValue]
    public internal(set) var state: PickleValue?
    init(type: String, args: [PickleValue]) { self.type = type; self.args = args }
}

public enum Pickle {
    /// Globals a checkpoint may name. Everything else is refused.
    public static let allowlist: Set<String> = Set(constructors.keys).union(opaqueTypes).union(plainGlobals)

    /// Globals whose call we implement.
    static let constructors: [String: Void] = [
        "collections.OrderedDict": (), "collections.defaultdict": (), "builtins.dict": (), "builtins.list": (),
        "builtins.set": (), "builtins.frozenset": (), "builtins.tuple": (),
        "builtins.bytearray": (), "_codecs.encode": (),
        "torch._utils._rebuild_tensor": (), "torch._utils._rebuild_tensor_v2": (),
        "torch._utils._rebuild_parameter": (), "torch._utils._rebuild_parameter_with_state": (),
        "torch.Size": (), "torch.device": (), "builtins.getattr": (),
    ]

    /// Data types kept as opaque objects: they occur in mmengine checkpoints' meta/message_hub, and
    /// holding them as inert values is safe because nothing is ever called.
    static let opaqueTypes: Set<String> = [
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.ndarray", "numpy.dtype", "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
        "mmengine.logging.history_buffer.HistoryBuffer", "mmengine.config.config.ConfigDict",
        "argparse.Namespace", "pathlib.PosixPath", "datetime.datetime", "datetime.timedelta",
        "builtins.slice", "builtins.complex",
    ]

    /// Globals that are values, never called: dtypes and storage classes.
    static let plainGlobals: Set<String> = [
        "torch.float64", "torch.float32", "torch.float16", "torch.bfloat16", "torch.int64", "torch.int32",
        "torch.int16", "torch.int8", "torch.uint8", "torch.bool",
        "torch.DoubleStorage", "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
        "torch.ByteStorage", "torch.BoolStorage", "torch.storage.UntypedStorage", "torch.UntypedStorage",
        "torch.strided", "torch.contiguous_format", "torch.preserve_format", "builtins.object",
    ]

    /// Runs the pickle in `bytes`. `persistentLoad` turns a persistent id into a value (torch uses it
    /// for storages); `path` names the file in errors.
    public static func load(_ bytes: UnsafeRawBufferPointer, path: String,
                            persistentLoad: ((PickleValue) throws -> PickleValue)? = nil) throws -> PickleValue {
        var m = Machine(r: ByteReader(bytes), path: path, persistentLoad: persistentLoad)
        do {
            let v = try m.run()
            try m.checkNesting(v)
            return v
        } catch {
            m.dismantle()
            throw error
        }
    }
}

/// The unpickling stack machine.
private struct Machine {
    var r: ByteReader
    let path: String
    let persistentLoad: ((PickleValue) throws -> PickleValue)?
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    /// Every list, dict and object made, so a failed load can take them apart without recursion.
    var containers: [AnyObject] = []
    /// Nesting depth of every tuple made, by buffer address; the tuples are kept alive meanwhile so
    /// addresses are never reused. Tuples are values, so their depth is fixed when they are made.
    var tupleDepth: [UnsafeRawPointer: Int] = [:]
    var tuples: [[PickleValue]] = []
    /// Deeper nesting than this is refused: releasing a very deep structure recurses and would
    /// overflow the stack. State dicts nest about 5 deep.
    static let maxNesting = 200

    init(r: ByteReader, path: String, persistentLoad: ((PickleValue) throws -> PickleValue)?) {
        self.r = r; self.path = path; self.persistentLoad = persistentLoad
    }

    func bad(_ reason: String) -> ModelIOError { .malformed(path: path, reason: "pickle: " + reason) }

    mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw bad("stack underflow at byte \(r.position)") }
        if let m = marks.last, stack.count < m { throw bad("stack underflow past a mark at byte \(r.position)") }
        return v
    }

    mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast(), m <= stack.count else { throw bad("missing MARK at byte \(r.position)") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw bad("empty stack at byte \(r.position)") }
        return v
    }

    mutating func u8() throws -> Int { guard let v = r.read(UInt8.self) else { throw truncated() }; return Int(v) }
    mutating func u16() throws -> Int { guard let v = r.read(UInt16.self) else { throw truncated() }; return Int(v) }
    mutating func u32() throws -> Int { guard let v = r.read(UInt32.self) else { throw truncated() }; return Int(v) }
    mutating func i32() throws -> Int { guard let v = r.read(Int32.self) else { throw truncated() }; return Int(v) }
    mutating func u64() throws -> Int {
        guard let v = r.read(UInt64.self) else { throw truncated() }
        guard v <= UInt64(r.remaining) else { throw truncated() }  // only used for lengths
        return Int(v)
    }
    mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard let b = r.readBytes(n) else { throw truncated() }
        return Array(b)
    }
    mutating func line() throws -> String {
        var end = r.position
        while end < r.bytes.count, r.bytes[end] != 0x0A { end += 1 }
        guard end < r.bytes.count else { throw truncated() }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: r.bytes[r.position..<end]), as: UTF8.self)
        r.position = end + 1
        return s
    }
    func truncated() -> ModelIOError { bad("ends early at byte \(r.position) of \(r.bytes.count) (truncated file?)") }

    mutating func utf8(_ n: Int) throws -> String {
        guard let b = r.readBytes(n) else { throw truncated() }
        return String(decoding: b, as: UTF8.self)
    }

    mutating func run() throws -> PickleValue {
        while true {
            let op = try u8()
            switch op {
            case 0x80: _ = try u8()                                     // PROTO
            case 0x95: _ = try bytes(8)                                 // FRAME
            case 0x2E:                                                  // STOP
                guard stack.count == 1, marks.isEmpty else { throw bad("STOP with \(stack.count) values on the stack") }
                return stack[0]
            case 0x28: marks.append(stack.count)                        // MARK
            case 0x30: _ = try pop()                                    // POP
            case 0x31: _ = try popMark()                                // POP_MARK
            case 0x32: stack.append(try top())                          // DUP
            case 0x4E: stack.append(.none)                              // NONE
            case 0x88: stack.append(.bool(true))                        // NEWTRUE
            case 0x89: stack.append(.bool(false))                       // NEWFALSE
            case 0x4A: stack.append(.int(try i32()))                    // BININT
            case 0x4B: stack.append(.int(try u8()))                     // BININT1
            case 0x4D: stack.append(.int(try u16()))                    // BININT2
            case 0x49:                                                  // INT (text; "01"/"00" are bools)
                let s = try line()
                if s == "01" { stack.append(.bool(true)) } else if s == "00" { stack.append(.bool(false)) } else {
                    guard let i = Int(s) else { throw bad("bad INT '\(s.prefix(40))'") }
                    stack.append(.int(i))
                }
            case 0x4C:                                                  // LONG (text)
                var s = try line()
                if s.hasSuffix("L") { s.removeLast() }
                guard let i = Int(s) else { throw ModelIOError.unsupported(path: path, reason: "pickle: text LONG beyond 64 bits") }
                stack.append(.int(i))
            case 0x8A: stack.append(long(try bytes(try u8())))          // LONG1
            case 0x8B:                                                  // LONG4
                let n = try i32()
                guard n >= 0 else { throw bad("negative LONG4 length") }
                stack.append(long(try bytes(n)))
            case 0x47:                                                  // BINFLOAT (big-endian)
                guard let v = r.read(UInt64.self) else { throw truncated() }
                stack.append(.float(Double(bitPattern: UInt64(bigEndian: v))))
            case 0x46:                                                  // FLOAT (text)
                let s = try line()
                guard let d = Double(s) else { throw bad("bad FLOAT '\(s.prefix(40))'") }
                stack.append(.float(d))
            case 0x58: stack.append(.string(try utf8(try u32())))       // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(try u8())))        // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try utf8(try u64())))       // BINUNICODE8
            case 0x54:                                                  // BINSTRING (py2 str)
                let n = try i32()
                guard n >= 0 else { throw bad("negative BINSTRING length") }
                stack.append(.string(String(decoding: try bytes(n), as: UTF8.self)))
            case 0x55: stack.append(.string(String(decoding: try bytes(try u8()), as: UTF8.self)))  // SHORT_BINSTRING
            case 0x56: stack.append(.string(try line()))                // UNICODE (raw-unicode-escape; ASCII subset)
            case 0x53:                                                  // STRING (quoted repr)
                var s = try line()
                if s.count >= 2, let f = s.first, f == "'" || f == "\"", s.last == f { s = String(s.dropFirst().dropLast()) }
                stack.append(.string(s))
            case 0x42: stack.append(.bytes(try bytes(try u32())))       // BINBYTES
            case 0x43: stack.append(.bytes(try bytes(try u8())))        // SHORT_BINBYTES
            case 0x8E, 0x96: stack.append(.bytes(try bytes(try u64()))) // BINBYTES8, BYTEARRAY8
            case 0x5D: stack.append(list([]))                // EMPTY_LIST
            case 0x6C: stack.append(list(try popMark()))   // LIST
            case 0x61:                                                  // APPEND
                let v = try pop()
                guard case let .list(l) = try top() else { throw bad("APPEND to a non-list") }
                l.items.append(v)
            case 0x65:                                                  // APPENDS
                let items = try popMark()
                switch try top() {
                case let .list(l): l.items.append(contentsOf: items)
                                default: throw bad("APPENDS to a non-list")
                }
            case 0x29: stack.append(try tuple([]))                         // EMPTY_TUPLE
            case 0x74: stack.append(try tuple(try popMark()))              // TUPLE
            case 0x85: stack.append(try tuple([try pop()]))                // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(try tuple([a, b]))         // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(try tuple([a, b, c]))  // TUPLE3
            case 0x7D: stack.append(dict())                // EMPTY_DICT
            case 0x64:                                                  // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw bad("DICT with an odd number of items") }
                guard case let .dict(d) = dict() else { fatalError() }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
                stack.append(.dict(d))
            case 0x73:                                                  // SETITEM
                let v = try pop(), k = try pop()
                guard case let .dict(d) = try top() else { throw bad("SETITEM on a non-dict") }
                d.set(k, v)
            case 0x75:                                                  // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw bad("SETITEMS with an odd number of items") }
                guard case let .dict(d) = try top() else { throw bad("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
            case 0x8F: stack.append(list([]))                // EMPTY_SET (as a list)
            case 0x90:                                                  // ADDITEMS
                let items = try popMark()
                guard case let .list(l) = try top() else { throw bad("ADDITEMS on a non-set") }
                l.items.append(contentsOf: items)
            case 0x91: stack.append(list(try popMark()))   // FROZENSET
            case 0x67:                                                  // GET
                let s = try line()
                guard let i = Int(s), let v = memo[i] else { throw bad("GET of unknown memo '\(s.prefix(20))'") }
                stack.append(v)
            case 0x68: try get(try u8())                                // BINGET
            case 0x6A: try get(try u32())                               // LONG_BINGET
            case 0x70:                                                  // PUT
                let s = try line()
                guard let i = Int(s) else { throw bad("bad PUT '\(s.prefix(20))'") }
                memo[i] = try top()
            case 0x71: memo[try u8()] = try top()                       // BINPUT
            case 0x72: memo[try u32()] = try top()                      // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                     // MEMOIZE
            case 0x63:                                                  // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:                                                  // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard let module = m.stringValue, let name = n.stringValue else { throw bad("STACK_GLOBAL needs two strings") }
                stack.append(try global(module, name))
            case 0x52:                                                  // REDUCE
                let args = try pop(), f = try pop()
                guard case let .tuple(a) = args else { throw bad("REDUCE arguments are not a tuple") }
                stack.append(try call(f, a))
            case 0x81:                                                  // NEWOBJ
                let args = try pop(), cls = try pop()
                guard case let .tuple(a) = args else { throw bad("NEWOBJ arguments are not a tuple") }
                stack.append(try call(cls, a))
            case 0x92:                                                  // NEWOBJ_EX
                _ = try pop()
                let args = try pop(), cls = try pop()
                guard case let .tuple(a) = args else { throw bad("NEWOBJ_EX arguments are not a tuple") }
                stack.append(try call(cls, a))
            case 0x62:                                                  // BUILD
                let state = try pop()
                switch try top() {
                case let .object(o): o.state = state
                default: break  // e.g. the `_metadata` attribute of a state dict: not needed
                }
            case 0x51:                                                  // BINPERSID
                let pid = try pop()
                guard let load = persistentLoad else { throw bad("persistent id without a loader") }
                stack.append(try load(pid))
            case 0x50:                                                  // PERSID (text)
                let s = try line()
                guard let load = persistentLoad else { throw bad("persistent id without a loader") }
                stack.append(try load(.string(s)))
            default:
                throw ModelIOError.unsupported(path: path, reason: String(format: "pickle opcode 0x%02x at byte %d", op, r.position - 1)
                    + " (INST/OBJ/EXT and out-of-band buffers are not used by checkpoints)")
            }
        }
    }

    mutating func get(_ i: Int) throws {
        guard let v = memo[i] else { throw bad("memo index \(i) was never stored") }
        stack.append(v)
    }

    func long(_ b: [UInt8]) -> PickleValue {
        if b.isEmpty { return .int(0) }
        if b.count <= 8 {
            var v: UInt64 = 0
            for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
            if b.count < 8, b.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(b.count)) }  // sign-extend
            return .int(Int(Int64(bitPattern: v)))
        }
        return .bigInt(b)
    }

    func global(_ module: String, _ name: String) throws -> PickleValue {
        // Protocol 2 writes Python 2 module names.
        let module = module == "__builtin__" ? "builtins" : module == "copy_reg" ? "copyreg" : module
        let full = module + "." + name
        guard Pickle.allowlist.contains(full) else {
            throw ModelIOError.disallowedGlobal(path: path, module: module, name: name)
        }
        return .global(module: module, name: name)
    }

    mutating func tuple(_ items: [PickleValue]) throws -> PickleValue {
        var d = 1
        for case let .tuple(t) in items {
            d = max(d, 1 + (t.withUnsafeBufferPointer { b in b.baseAddress.flatMap { tupleDepth[UnsafeRawPointer($0)] } } ?? 1))
        }
        guard d <= Machine.maxNesting else { throw bad("tuples nested more than \(Machine.maxNesting) deep") }
        tuples.append(items)
        if let p = items.withUnsafeBufferPointer({ $0.baseAddress }) { tupleDepth[UnsafeRawPointer(p)] = d }
        return .tuple(items)
    }

    mutating func list(_ items: [PickleValue]) -> PickleValue {
        let l = PickleList(items)
        containers.append(l)
        return .list(l)
    }

    mutating func dict() -> PickleValue {
        let d = PickleDict()
        containers.append(d)
        return .dict(d)
    }

    /// Refuses results nested deeper than `maxNesting` (lists, dicts, tuples and objects all count).
    /// Each container is expanded again only when reached at a greater depth, and the walk has a
    /// budget, so shared substructures cannot blow it up.
    func checkNesting(_ root: PickleValue) throws {
        var best: [ObjectIdentifier: Int] = [:]
        var bestTuple: [UnsafeRawPointer: Int] = [:]
        var work: [(PickleValue, Int)] = [(root, 0)]
        var budget = 50_000_000
        while let (v, d) = work.popLast() {
            budget -= 1
            guard d <= Machine.maxNesting, budget > 0 else {
                throw bad("values nested more than \(Machine.maxNesting) deep (or too intricately shared); not a checkpoint")
            }
            func visit(_ o: AnyObject) -> Bool {
                let id = ObjectIdentifier(o)
                if let b = best[id], b >= d { return false }
                best[id] = d
                return true
            }
            switch v {
            case let .list(l): if visit(l) { work += l.items.map { ($0, d + 1) } }
            case let .dict(x): if visit(x) { work += x.items.flatMap { [($0.key, d + 1), ($0.value, d + 1)] } }
            case let .object(o): if visit(o) { work += o.args.map { ($0, d + 1) } + (o.state.map { [($0, d + 1)] } ?? []) }
            case let .tuple(t):
                if let p = t.withUnsafeBufferPointer({ $0.baseAddress }) {
                    let key = UnsafeRawPointer(p)
                    if let b = bestTuple[key], b >= d { continue }
                    bestTuple[key] = d
                }
                work += t.map { ($0, d + 1) }
            default: break
            }
        }
    }

    /// Empties every container made, so that releasing them never recurses deeply.
    mutating func dismantle() {
        var graveyard: [PickleValue] = []
        for c in containers {
            if let l = c as? PickleList { graveyard += l.items; l.items = [] }
            if let d = c as? PickleDict { for (k, v) in d.items { graveyard += [k, v] }; d.removeAll() }
            if let o = c as? PickleObject { graveyard += o.args; o.args = []; if let s = o.state { graveyard.append(s) }; o.state = nil }
        }
        graveyard.removeAll()
        stack.removeAll(); memo.removeAll(); containers.removeAll()
    }

    mutating func call(_ f: PickleValue, _ a: [PickleValue]) throws -> PickleValue {
        guard case let .global(module, name) = f else {
            throw bad("asks to call \(f), which is not a callable (only allowlisted globals can be called)")
        }
        let full = module + "." + name
        func intList(_ v: PickleValue) -> [Int]? {
            guard case let .tuple(t) = v else { if case let .list(l) = v { return l.items.compactMap(\.intValue) }; return nil }
            let ints = t.compactMap(\.intValue)
            return ints.count == t.count ? ints : nil
        }
        switch full {
        case "collections.OrderedDict", "builtins.dict", "collections.defaultdict":
            guard case let .dict(d) = dict() else { fatalError() }
            if full != "collections.defaultdict", let first = a.first {  // OrderedDict([(k, v), …])
                let pairs: [PickleValue]
                switch first {
                case let .list(l): pairs = l.items
                case let .tuple(t): pairs = t
                default: pairs = []
                }
                for p in pairs {
                    if case let .tuple(kv) = p, kv.count == 2 { d.set(kv[0], kv[1]) }
                }
            }
            return .dict(d)
        case "builtins.list", "builtins.set", "builtins.frozenset":
            if let first = a.first {
                switch first {
                case let .list(l): return list(l.items)
                case let .tuple(t): return list(t)
                default: break
                }
            }
            return list([])
        case "builtins.tuple", "torch.Size":
            if let first = a.first {
                switch first {
                case let .list(l): return try tuple(l.items)
                case let .tuple(t): return .tuple(t)
                default: break
                }
            }
            return try tuple([])
        case "builtins.bytearray":
            if case let .bytes(b)? = a.first { return .bytes(b) }
            return .bytes([])
        case "_codecs.encode":  // how protocol 2 writes bytes: encode(text, 'latin1')
            guard case let .string(s)? = a.first else { throw bad("_codecs.encode needs a string") }
            return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        case "builtins.getattr":
            // mmengine's HistoryBuffer pickles its statistics methods as getattr(HistoryBuffer, 'min').
            // Only attributes of allowlisted data types are accepted, and the result stays inert:
            // nothing can call it.
            guard a.count == 2, case let .global(m, n) = a[0], Pickle.opaqueTypes.contains(m + "." + n),
                  let attr = a[1].stringValue else {
                throw bad("getattr(\(a.first.map { $0.description } ?? "?"), …) is only accepted on allowlisted data types")
            }
            let o = PickleObject(type: "\(m).\(n).\(attr)", args: [])
            containers.append(o)
            return .object(o)
        case "torch.device":
            return a.first ?? .string("cpu")
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case let .storage(s) = a[0], let offset = a[1].intValue,
                  let size = intList(a[2]), let stride = intList(a[3]) else {
                throw bad("\(name) with unexpected arguments \(PickleValue.tuple(a))")
            }
            return .tensor(PickleTensor(storage: s, storageOffset: offset, size: size, stride: stride))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let t = a.first, case .tensor = t else { throw bad("\(name) without a tensor") }
            return t
        default:
            if Pickle.opaqueTypes.contains(full) {
                let o = PickleObject(type: full, args: a)
                containers.append(o)
                return .object(o)
            }
            throw bad("asks to call '\(full)', which is a value, not a constructor")
        }
    }
}
