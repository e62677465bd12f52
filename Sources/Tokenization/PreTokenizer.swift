/// GPT-2's pre-tokenizer, written out as a scanner over UTF-8 bytes.
///
/// It splits text exactly as the regular expression GPT-2, HF `tokenizers` (ByteLevel) and
/// `tiktoken` use:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// with `\p{L}`/`\p{N}` the Unicode letter/number general categories and `\s` the Unicode
/// `White_Space` property (what Oniguruma and Rust's `regex` use). A hand-written scanner is an
/// order of magnitude faster than a regex engine, and alternation order is easy to mirror: at each
/// token start try the alternatives left to right. ASCII is classified by table; other scalars are
/// decoded and looked up once each.
public enum PreTokenizer {
    /// The four character classes the expression distinguishes.
    @usableFromInline
    enum CharClass: UInt8 { case letter, number, space, other }

    /// ASCII by comparisons rather than a table: a static table costs a `swift_once` check and a
    /// retain per lookup in the hot loop. Spaces are the ASCII `White_Space` characters.
    @inline(__always) @usableFromInline
    static func asciiClass(_ b: UInt8) -> CharClass {
        if (b | 0x20) &- 0x61 < 26 { return .letter }
        if b &- 0x30 < 10 { return .number }
        if b == 0x20 || b &- 0x09 < 5 { return .space }
        return .other
    }

    /// The class of a scalar by its Unicode properties.
    @usableFromInline
    static func classify(_ s: Unicode.Scalar) -> CharClass {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// The classes of the Basic Multilingual Plane, computed once: Unicode property lookups are
    /// slow enough to show in CJK text. Passed down as a pointer so the hot loop does no lazy-global
    /// check per scalar.
    @usableFromInline
    static let bmpClasses: UnsafePointer<CharClass> = {
        let table = UnsafeMutablePointer<CharClass>.allocate(capacity: 0x10000)
        for v in 0..<0x10000 {
            table[v] = Unicode.Scalar(UInt32(v)).map(classify) ?? .other
        }
        return UnsafePointer(table)
    }()

    /// Class and byte length of the scalar starting at `i`. The buffer should be valid UTF-8 (any
    /// Swift `String` is); a sequence cut off by the end of the buffer counts as one `other` byte
    /// rather than reading past it.
    @inline(__always) @usableFromInline
    static func scalarClass(_ p: UnsafeBufferPointer<UInt8>, _ i: Int,
                            _ bmp: UnsafePointer<CharClass>) -> (CharClass, Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (asciiClass(b0), 1) }
        var value: UInt32
        let len: Int
        if b0 < 0xE0 {
            value = UInt32(b0 & 0x1F); len = 2
        } else if b0 < 0xF0 {
            value = UInt32(b0 & 0x0F); len = 3
        } else {
            value = UInt32(b0 & 0x07); len = 4
        }
        if i + len > p.count { return (.other, 1) }
        for k in 1..<len { value = (value << 6) | UInt32(p[i + k] & 0x3F) }
        if value < 0x10000 { return (bmp[Int(value)], len) }
        return (classify(Unicode.Scalar(value) ?? "\u{FFFD}"), len)
    }

    /// End of the run of scalars of class `cls` starting at `i`.
    @inline(__always) @usableFromInline
    static func runEnd(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ cls: CharClass,
                       _ bmp: UnsafePointer<CharClass>) -> Int {
        var j = i
        while j < p.count {
            let (c, len) = scalarClass(p, j, bmp)
            if c != cls { break }
            j += len
        }
        return j
    }

    /// Length of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `i`, or 0.
    @inline(__always) @usableFromInline
    static func contraction(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        guard i + 1 < p.count else { return 0 }
        switch p[i + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return i + 2 < p.count && p[i + 2] == UInt8(ascii: "e") ? 3 : 0
        case UInt8(ascii: "l"):
            return i + 2 < p.count && p[i + 2] == UInt8(ascii: "l") ? 3 : 0
        default: return 0
        }
    }

    /// Calls `body(start, end)` for each pre-token of the UTF-8 text in `p`, in order.
    @inlinable
    public static func split(_ p: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        let n = p.count
        let bmp = bmpClasses
        var i = 0
        while i < n {
            let b = p[i]
            if b == UInt8(ascii: "'") {
                let len = contraction(p, i)
                if len > 0 { body(i, i + len); i += len; continue }
            }
            var (cls, len) = scalarClass(p, i, bmp)
            var start = i
            if b == UInt8(ascii: " ") && i + 1 < n {
                // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a space joins the next run.
                let (next, nextLen) = scalarClass(p, i + 1, bmp)
                if next != .space {
                    start = i
                    cls = next
                    len = 1 + nextLen
                }
            }
            if cls != .space {
                let end = runEnd(p, start + len, cls, bmp)
                body(start, end)
                i = end
                continue
            }
            // Whitespace: `\s+(?!\S)` leaves the last space of a run for the next token unless
            // the run ends the text; `\s+` takes a single space that stands before a non-space.
            var end = i
            var lastLen = 0
            while end < n {
                let (c, l) = scalarClass(p, end, bmp)
                if c != .space { break }
                end += l
                lastLen = l
            }
            if end < n && end - lastLen > i { end -= lastLen }
            body(i, end)
            i = end
        }
    }

    /// The pre-tokens of `text` as strings (for tests and inspection; encoding uses `split`).
    public static func pieces(_ text: String) -> [String] {
        var bytes = Array(text.utf8)
        var out: [String] = []
        bytes.withUnsafeMutableBufferPointer { mp in
            let p = UnsafeBufferPointer(mp)
            split(p) { s, e in out.append(String(decoding: p[s..<e], as: UTF8.self)) }
        }
        return out
    }
}
