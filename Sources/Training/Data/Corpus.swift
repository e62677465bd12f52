import Foundation

/// The documents of a training corpus, in file order, read from a plain-text file, a JSONL file,
/// or a directory of them.
///
/// - Plain text (any file that is not `.jsonl`): documents are separated by one or more blank
///   lines (a line of only whitespace counts as blank). The lines of one document are trimmed and
///   joined with a single space: prose files are hard-wrapped, and the original sentence splitter
///   cuts at every `\n`, so a wrapped line would otherwise end a sentence in the middle. (Text
///   without spaces between words, such as Chinese, gains a space at each wrap: give it as JSONL.)
/// - JSONL (`.jsonl`): one JSON object per line, the text in a string field (`content` by
///   default, as in WanJuan). Texts are kept exactly; blank lines are skipped, and so are texts of
///   only whitespace (counted in `notes`).
/// - A directory: every `.txt` and `.jsonl` file below it, recursively, in byte order of their
///   paths; other files are ignored and counted in `notes`.
///
/// Everything must be UTF-8: a bad byte is an error that gives the file and its offset, never
/// silently replaced. A leading byte-order mark is dropped.
public struct Corpus: Sendable {
    public var documents: [String]
    /// What was skipped or ignored on the way, for the user to read.
    public var notes: [String]

    public init(documents: [String], notes: [String] = []) {
        self.documents = documents
        self.notes = notes
    }

    public enum Format: Sendable {
        case plainText
        case jsonl

        /// `.jsonl` files are JSONL; everything else is read as plain text.
        public init(path: String) {
            self = path.lowercased().hasSuffix(".jsonl") ? .jsonl : .plainText
        }
    }

    /// Loads `path`, a file or a directory.
    /// - Parameter jsonlField: the field of each JSONL object that holds the text.
    public static func load(path: String, jsonlField: String = "content") throws -> Corpus {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError.missingPath(path)
        }
        if isDirectory.boolValue { return try loadDirectory(path, jsonlField: jsonlField) }

        var corpus = Corpus(documents: [])
        let blank = try corpus.append(file: path, format: Format(path: path), jsonlField: jsonlField)
        if corpus.documents.isEmpty {
            throw DataError.emptyCorpus(path: path, reason: blank > 0
                ? "all \(blank) JSONL texts in field \"\(jsonlField)\" are empty"
                : "the file is empty or holds only blank lines")
        }
        return corpus
    }

    /// Every `.txt`/`.jsonl` file under `root`, sorted by path.
    private static func loadDirectory(_ root: String, jsonlField: String) throws -> Corpus {
        let rootURL = URL(fileURLWithPath: root, isDirectory: true).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: rootURL, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw DataError.unreadableFile(path: root, reason: "cannot list the directory")
        }
        var files: [String] = [], ignored: [String] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            switch url.pathExtension.lowercased() {
            case "txt", "jsonl": files.append(url.path)
            default: ignored.append(url.path)
            }
        }
        // Byte order of the UTF-8 paths: the same on every platform and locale.
        files.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        ignored.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }

        var corpus = Corpus(documents: [])
        var blank = 0
        for file in files {
            blank += try corpus.append(file: file, format: Format(path: file), jsonlField: jsonlField)
        }
        if let first = ignored.first {
            corpus.notes.append("ignored \(ignored.count) file\(ignored.count == 1 ? "" : "s") that are not .txt or .jsonl (first: \(first))")
        }
        if corpus.documents.isEmpty {
            throw DataError.emptyCorpus(path: root, reason: files.isEmpty
                ? "no .txt or .jsonl files below it (\(ignored.count) other files ignored)"
                : "its \(files.count) .txt/.jsonl files hold no text")
        }
        return corpus
    }

    /// Appends the documents of one file; returns how many JSONL texts were blank (and skipped).
    @discardableResult
    private mutating func append(file path: String, format: Format, jsonlField: String) throws -> Int {
        let bytes = try Self.readFile(path)
        var text: String
        switch StrictUTF8.decode(bytes) {
        case .success(let s): text = s
        case .failure(let bad): throw DataError.invalidUTF8(path: path, offset: bad.offset)
        }
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        switch format {
        case .plainText:
            documents += Self.documents(plainText: text)
            return 0
        case .jsonl:
            let (found, blank) = try Self.documents(jsonl: text, path: path, field: jsonlField)
            documents += found
            if blank > 0 { notes.append("\(path): skipped \(blank) line\(blank == 1 ? "" : "s") whose \"\(jsonlField)\" is empty") }
            return blank
        }
    }

    // MARK: Formats

    /// The documents of plain text: blank-line separated, each one's lines trimmed and joined
    /// with one space.
    public static func documents(plainText text: String) -> [String] {
        var documents: [String] = []
        var lines: [Substring] = []
        forEachLine(of: text) { _, line in
            let t = trimmed(line)
            if t.isEmpty {
                if !lines.isEmpty { documents.append(lines.joined(separator: " ")) }
                lines.removeAll(keepingCapacity: true)
            } else {
                lines.append(t)
            }
        }
        if !lines.isEmpty { documents.append(lines.joined(separator: " ")) }
        return documents
    }

    /// The texts of JSONL `text` (read from `path`, for messages) in field `field`, and how many
    /// were empty and skipped.
    public static func documents(jsonl text: String, path: String, field: String) throws -> (documents: [String], blankTexts: Int) {
        var documents: [String] = []
        var blank = 0
        var failure: DataError?
        forEachLine(of: text) { number, line in
            guard failure == nil, !trimmed(line).isEmpty else { return }
            switch jsonlText(line, field: field) {
            case .success(let s):
                if trimmed(Substring(s)).isEmpty { blank += 1 } else { documents.append(s) }
            case .failure(let reason):
                failure = .invalidJSONL(path: path, line: number, reason: reason.message)
            }
        }
        if let failure { throw failure }
        return (documents, blank)
    }

    private struct LineProblem: Error { let message: String }

    /// The string in `field` of the JSON object on `line`.
    private static func jsonlText(_ line: Substring, field: String) -> Result<String, LineProblem> {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            return .failure(LineProblem(message: "not valid JSON: \(line.prefix(60))\(line.count > 60 ? "…" : ""); each line must be one JSON object"))
        }
        guard let record = object as? [String: Any] else {
            return .failure(LineProblem(message: "a JSON \(jsonType(object)), not an object; each line must be one JSON object such as {\"\(field)\": \"…\"}"))
        }
        guard let value = record[field] else {
            let fields = record.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return .failure(LineProblem(message: "no field \"\(field)\" (fields: \(fields.isEmpty ? "none" : fields)); choose the text field with --jsonl-field"))
        }
        guard let s = value as? String else {
            return .failure(LineProblem(message: "field \"\(field)\" is a \(jsonType(value)), not a string"))
        }
        return .success(s)
    }

    /// The JSON name of a parsed value's type.
    private static func jsonType(_ value: Any) -> String {
        switch value {
        case is String: return "string"
        case is NSNull: return "null"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        // JSON booleans arrive as NSNumbers of C type `char` ("c"; "B" on some platforms).
        case let n as NSNumber: return ["c", "B"].contains(String(cString: n.objCType)) ? "boolean" : "number"
        default: return "value"
        }
    }

    // MARK: Helpers

    /// Calls `body` with each line (1-based number, text without its `\n` and a trailing `\r`).
    static func forEachLine(of text: String, _ body: (Int, Substring) -> Void) {
        let utf8 = text.utf8
        var start = utf8.startIndex
        var number = 1
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
            var line = text[start..<end]
            if line.utf8.last == UInt8(ascii: "\r") { line = line.dropLast() }
            body(number, line)
            number += 1
            start = end == utf8.endIndex ? end : utf8.index(after: end)
        }
    }

    /// `s` without leading and trailing Unicode whitespace (ideographic spaces included).
    static func trimmed(_ s: Substring) -> Substring {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return Substring(scalars[first...last])
    }

    /// The bytes of a file, with the system's reason when it cannot be read.
    static func readFile(_ path: String) throws -> [UInt8] {
        // O_NONBLOCK so that a FIFO is refused below instead of blocking the open.
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw DataError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DataError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw DataError.unreadableFile(path: path, reason: "not a regular file") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}
