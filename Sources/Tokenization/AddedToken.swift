/// A token matched verbatim in the input before pre-tokenization (`</s>`, `<|endoftext|>`, …),
/// as HF's `AddedToken`: `lstrip`/`rstrip` swallow neighbouring whitespace, `singleWord` only
/// matches outside words, and `special` tokens are the ones `skipSpecialTokens` drops.
public struct AddedToken: Equatable, Sendable {
    public var content: String
    public var id: Int
    public var special: Bool
    public var lstrip: Bool
    public var rstrip: Bool
    public var singleWord: Bool

    public init(content: String, id: Int, special: Bool = true, lstrip: Bool = false,
                rstrip: Bool = false, singleWord: Bool = false) {
        self.content = content
        self.id = id
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
    }
}

/// Finds added tokens in UTF-8 text: at each position the longest token that matches wins, and
/// the scan moves left to right (HF's leftmost-longest).
struct AddedTokenMatcher {
    private var byFirstByte: [[(bytes: [UInt8], token: AddedToken)]] = Array(repeating: [], count: 256)
    let isEmpty: Bool

    init(_ tokens: [AddedToken]) {
        isEmpty = tokens.isEmpty
        for t in tokens where !t.content.isEmpty {
            let bytes = Array(t.content.utf8)
            byFirstByte[Int(bytes[0])].append((bytes, t))
        }
        for b in 0..<256 { byFirstByte[b].sort { $0.bytes.count > $1.bytes.count } }
    }

    /// Splits `p` into alternating plain segments and matched tokens, calling `plain(start, end)`
    /// for text to pre-tokenize and `token(id)` for each match.
    func split(_ p: UnsafeBufferPointer<UInt8>, plain: (Int, Int) -> Void, token: (Int) -> Void) {
        if isEmpty { if p.count > 0 { plain(0, p.count) }; return }
        var segmentStart = 0
        var i = 0
        while i < p.count {
            var matched: (start: Int, end: Int, id: Int)?
            for (bytes, t) in byFirstByte[Int(p[i])] where i + bytes.count <= p.count {
                var same = true
                for k in 1..<bytes.count where p[i + k] != bytes[k] { same = false; break }
                guard same else { continue }
                let end = i + bytes.count
                if t.singleWord && (isWordByte(p, before: i) || isWordByte(p, at: end)) { continue }
                var s = i, e = end
                if t.lstrip { while s > segmentStart && isSpaceByte(p[s - 1]) { s -= 1 } }
                if t.rstrip { while e < p.count && isSpaceByte(p[e]) { e += 1 } }
                matched = (s, e, t.id)
                break
            }
            if let m = matched {
                if m.start > segmentStart { plain(segmentStart, m.start) }
                token(m.id)
                segmentStart = m.end
                i = m.end
            } else {
                i += 1
            }
        }
        if segmentStart < p.count { plain(segmentStart, p.count) }
    }

    private func isSpaceByte(_ b: UInt8) -> Bool {
        b == 0x20 || (0x09...0x0D).contains(b)
    }

    /// Whether the scalar ending just before `i` is alphanumeric or `_` (ASCII check plus any
    /// non-ASCII byte, which in practice is a letter).
    private func isWordByte(_ p: UnsafeBufferPointer<UInt8>, before i: Int) -> Bool {
        i > 0 && isWord(p[i - 1])
    }

    private func isWordByte(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        i < p.count && isWord(p[i])
    }

    private func isWord(_ b: UInt8) -> Bool {
        b >= 0x80 || b == UInt8(ascii: "_") || (0x30...0x39).contains(b)
            || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
    }
}
