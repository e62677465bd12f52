/// What can go wrong while loading a tokenizer. Messages name the file (and line) and say how to
/// fix it, because they end up in front of a user of the command-line tool.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A file is missing; the associated text lists what was looked for.
    case missingFile(String)
    /// A file could not be parsed: `where` is "path:line" or "path", then the reason.
    case malformed(String, String)
    /// The vocabulary is inconsistent (negative ids, unknown special tokens, …).
    case invalidVocabulary(String)
    /// The tokenizer uses a feature this implementation does not have.
    case unsupported(String)

    public var description: String {
        switch self {
        case .missingFile(let what): return "missing tokenizer file: \(what)"
        case .malformed(let at, let why): return "\(at): \(why)"
        case .invalidVocabulary(let why): return "invalid vocabulary: \(why)"
        case .unsupported(let why): return "unsupported tokenizer: \(why)"
        }
    }
}
