/// Strict UTF-8 decoding: text with bad bytes is refused with the offset of the first one instead
/// of being patched with U+FFFD, so a corpus in the wrong encoding is noticed before training.
enum StrictUTF8 {
    /// The text of `bytes`, or the 0-based offset of the first byte that is not valid UTF-8.
    static func decode<Bytes: Collection>(_ bytes: Bytes) -> Result<String, InvalidOffset> where Bytes.Element == UInt8 {
        if let s = String(validating: bytes, as: UTF8.self) { return .success(s) }
        return .failure(InvalidOffset(offset: firstInvalidOffset(bytes)))
    }

    struct InvalidOffset: Error {
        let offset: Int
    }

    /// Where the first ill-formed sequence starts (the byte count when there is none).
    static func firstInvalidOffset<Bytes: Collection>(_ bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .error: return offset
            case .emptyInput: return offset
            }
        }
    }
}
