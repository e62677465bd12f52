/// A training log or plot could not be written or read. The message names the file and says
/// what to do; nothing in logging ever crashes a run.
public struct LoggingError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
