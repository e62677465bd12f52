/// GPT-2's reversible byte ↔ Unicode mapping.
///
/// Byte-level BPE vocabularies store every token as text in which each *byte* is written as one
/// printable Unicode scalar: the printable Latin-1 bytes map to themselves and the remaining 68
/// (controls, space, soft hyphen, …) map to U+0100 onwards in byte order. Loading a vocabulary
/// means undoing this once, so that the tokenizer's hot path works on raw bytes only.
public enum ByteUnicodeMap {
    /// `scalar(for: b)` is the scalar GPT-2 writes for byte `b`.
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if isPrintable(UInt8(b)) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse of `byteToScalar`, indexed by scalar value (all values are below 0x144).
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x200)
        for (b, s) in byteToScalar.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// Bytes GPT-2 keeps as themselves: `!`…`~`, `¡`…`¬`, `®`…`ÿ`.
    private static func isPrintable(_ b: UInt8) -> Bool {
        (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
    }

    /// Turns a vocabulary token (byte-level text) back into its bytes; nil if some scalar is not
    /// one of the 256 byte scalars (such a token can only be an added token, never a BPE piece).
    public static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard s.value < 0x200 else { return nil }
            let b = scalarToByte[Int(s.value)]
            guard b >= 0 else { return nil }
            out.append(UInt8(b))
        }
        return out
    }

    /// Writes bytes as byte-level text (what a vocabulary file stores).
    public static func text(of bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }
}
