/// A plain Python value to store in a checkpoint (`meta`): what a trainer records about a run.
/// Dict entries keep their order, as Python dicts do.
public indirect enum PickleLiteral: Sendable, ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([PickleLiteral])
    case tuple([PickleLiteral])
    case dict([(key: String, value: PickleLiteral)])

    public init(nilLiteral: ()) { self = .none }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: PickleLiteral...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, PickleLiteral)...) { self = .dict(elements.map { (key: $0.0, value: $0.1) }) }
}

/// Emits pickle protocol 2 opcodes, the protocol `torch.save` uses. It writes what checkpoints
/// need: plain values, named globals, persistent ids and calls (`REDUCE`). Strings and globals are
/// memoised, so a global named for every tensor costs two bytes after its first use.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2
    private var memo: [String: Int] = [:]

    /// Python's pickler writes at most this many items per MARK … SETITEMS/APPENDS batch.
    static let batch = 1000

    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func mark() { op(0x28) }

    private mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }

    /// Pushes the memo entry for `key` if there is one; else leaves the value that was just
    /// written on the stack and stores it under `key`.
    private mutating func memoised(_ key: String, write: (inout PickleWriter) -> Void) {
        if let i = memo[key] {
            if i < 256 { op(0x68); bytes.append(UInt8(i)) } else { op(0x6A); u32(UInt32(i)) }  // BINGET / LONG_BINGET
            return
        }
        write(&self)
        let i = memo.count
        memo[key] = i
        if i < 256 { op(0x71); bytes.append(UInt8(i)) } else { op(0x72); u32(UInt32(i)) }      // BINPUT / LONG_BINPUT
    }

    mutating func none() { op(0x4E) }
    mutating func bool(_ b: Bool) { op(b ? 0x88 : 0x89) }  // NEWTRUE / NEWFALSE

    mutating func int(_ v: Int) {
        switch v {
        case 0...0xFF: op(0x4B); bytes.append(UInt8(v))                                        // BININT1
        case 0...0xFFFF: op(0x4D); withUnsafeBytes(of: UInt16(v).littleEndian) { bytes += $0 } // BININT2
        case Int(Int32.min)...Int(Int32.max): op(0x4A); u32(UInt32(bitPattern: Int32(v)))       // BININT
        default:
            // LONG1: the shortest little-endian two's complement that keeps the sign.
            var le = withUnsafeBytes(of: Int64(v).littleEndian) { Array($0) }
            while le.count > 1, (le.last == 0 && le[le.count - 2] & 0x80 == 0) || (le.last == 0xFF && le[le.count - 2] & 0x80 != 0) {
                le.removeLast()
            }
            op(0x8A); bytes.append(UInt8(le.count)); bytes += le
        }
    }

    mutating func float(_ v: Double) {
        op(0x47)  // BINFLOAT, big-endian
        withUnsafeBytes(of: v.bitPattern.bigEndian) { bytes += $0 }
    }

    mutating func string(_ s: String) {
        memoised("s" + s) { w in
            let utf8 = Array(s.utf8)
            w.op(0x58); w.u32(UInt32(utf8.count)); w.bytes += utf8                              // BINUNICODE
        }
    }

    /// A module-level name such as `collections.OrderedDict` (GLOBAL "module\nname\n").
    mutating func global(_ module: String, _ name: String) {
        memoised("g" + module + "\n" + name) { w in
            w.op(0x63); w.bytes += Array((module + "\n" + name + "\n").utf8)
        }
    }

    /// A tuple of the values `items` writes, with the short opcodes Python uses for 0–3 items.
    mutating func tuple(count: Int, _ items: (inout PickleWriter) -> Void) {
        switch count {
        case 0: op(0x29)                                                                       // EMPTY_TUPLE
        case 1...3: items(&self); op([0x85, 0x86, 0x87][count - 1])                            // TUPLE1/2/3
        default: mark(); items(&self); op(0x74)                                                // TUPLE
        }
    }

    mutating func intTuple(_ values: [Int]) {
        tuple(count: values.count) { w in for v in values { w.int(v) } }
    }

    /// A dict (EMPTY_DICT, then SETITEMS in batches); `item(i)` writes the i-th key and value.
    mutating func dict(count: Int, _ item: (inout PickleWriter, Int) -> Void) {
        op(0x7D)                                                                               // EMPTY_DICT
        setItems(count: count, item)
    }

    mutating func setItems(count: Int, _ item: (inout PickleWriter, Int) -> Void) {
        var i = 0
        while i < count {
            mark()
            for k in i..<min(i + PickleWriter.batch, count) { item(&self, k) }
            op(0x75)                                                                           // SETITEMS
            i += PickleWriter.batch
        }
    }

    mutating func literal(_ v: PickleLiteral) {
        switch v {
        case .none: none()
        case let .bool(b): bool(b)
        case let .int(i): int(i)
        case let .float(d): float(d)
        case let .string(s): string(s)
        case let .tuple(items): tuple(count: items.count) { w in for x in items { w.literal(x) } }
        case let .list(items):
            op(0x5D)                                                                           // EMPTY_LIST
            var i = 0
            while i < items.count {
                mark()
                for x in items[i..<min(i + PickleWriter.batch, items.count)] { literal(x) }
                op(0x65)                                                                       // APPENDS
                i += PickleWriter.batch
            }
        case let .dict(entries):
            dict(count: entries.count) { w, i in w.string(entries[i].key); w.literal(entries[i].value) }
        }
    }

    /// Ends the pickle (STOP) and returns its bytes.
    mutating func finish() -> [UInt8] {
        op(0x2E)
        return bytes
    }
}
