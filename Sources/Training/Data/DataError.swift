/// What can go wrong between a corpus (or a data server) and a batch. Every message names the
/// file, line or byte offset, or the URL, and says what to do about it.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// The corpus path does not exist.
    case missingPath(String)
    /// A file could not be read (permissions, a directory where a file was expected, I/O error).
    case unreadableFile(path: String, reason: String)
    /// Bytes that are not UTF-8, at `offset` (0-based) in `path`.
    case invalidUTF8(path: String, offset: Int)
    /// A JSONL line (1-based) that is not a JSON object, lacks the text field, or whose field is
    /// not a string.
    case invalidJSONL(path: String, line: Int, reason: String)
    /// A path that gave no documents.
    case emptyCorpus(path: String, reason: String)
    /// The corpus is not larger than the eval split asked for.
    case evalSplitTooLarge(documents: Int, evalDocuments: Int)
    /// Every item went to the eval split, or the train documents gave no sentences.
    case noTrainItems(String)
    /// An item index outside `0..<count`.
    case indexOutOfRange(index: Int, count: Int)
    /// A size, length or count argument out of range (a programming or configuration error).
    case invalidArgument(String)
    /// A batch that cannot be built (no rows, a tokenizer without a pad token).
    case collation(String)
    /// The prefetch loader was stopped before the step was made.
    case loaderStopped(step: Int)
    /// No HTTP answer from the data server after the retries.
    case serverUnreachable(url: String, reason: String, attempts: Int)
    /// The data server answered, but not with what the protocol says.
    case badServerAnswer(url: String, reason: String)
    /// `GET /status` never said `ready.` within the wait.
    case serverNotReady(url: String, lastAnswer: String, waited: Double)

    public var description: String {
        switch self {
        case .missingPath(let p):
            return "\(p): no such file or directory (pass a .txt or .jsonl file, or a directory of them)"
        case .unreadableFile(let p, let reason):
            return "\(p): cannot read: \(reason)"
        case .invalidUTF8(let p, let offset):
            return "\(p): invalid UTF-8 at byte offset \(offset); convert the file to UTF-8 (for example `iconv -f GB18030 -t UTF-8`) or remove the bad bytes"
        case .invalidJSONL(let p, let line, let reason):
            return "\(p):\(line): \(reason)"
        case .emptyCorpus(let p, let reason):
            return "\(p): the corpus has no documents: \(reason)"
        case .evalSplitTooLarge(let n, let m):
            return "corpus of \(n) documents is not larger than the eval split of \(m); lower --eval-documents or add documents"
        case .noTrainItems(let why):
            return "the train split has no items: \(why)"
        case .indexOutOfRange(let i, let n):
            return "item \(i) is out of range: there are \(n) items (0..<\(n))"
        case .invalidArgument(let why):
            return why
        case .collation(let why):
            return why
        case .loaderStopped(let step):
            return "the prefetch loader was stopped before step \(step) was made"
        case .serverUnreachable(let url, let reason, let attempts):
            return "cannot reach \(url): \(reason) (\(attempts) tries); start one with `sentencevae data serve CORPUS --port \(Self.port(of: url))`"
        case .badServerAnswer(let url, let reason):
            return "\(url): \(reason); is this a TeleDS data server (`sentencevae data serve`)?"
        case .serverNotReady(let url, let last, let waited):
            return "\(url) did not answer \"ready.\" within \(Int(waited.rounded())) s (last answer: \"\(last.prefix(80))\"); wait for the server to finish loading or raise the wait"
        }
    }

    /// The port in an `http://host:port/...` URL, for the hint; "P" when there is none.
    private static func port(of url: String) -> String {
        guard let rest = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first,
              let colon = rest.lastIndex(of: ":") else { return "P" }
        let port = rest[rest.index(after: colon)...]
        return port.isEmpty || !port.allSatisfy(\.isNumber) ? "P" : String(port)
    }
}
