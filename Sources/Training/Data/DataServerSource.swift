import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of the original's TeleDS data server (`sentence_vae/data/tele_ds_dataset.py`):
/// `GET /status` answers `ready.` once the server has loaded, `GET /count` the number of items,
/// `GET /data/{i}` item i as UTF-8 text. The first `evalCount` items are the eval split (the
/// original's `eval_samples`). `sentencevae data serve` is such a server.
///
/// Requests are synchronous (the loader thread waits for each). A request that gets no HTTP answer,
/// or a 5xx one, is retried with exponential backoff as the original's `fetch_text_with_retry`
/// (3 tries, waits 0.3·2ᵏ s); then it throws. Unlike the original, which hands a failed item to the
/// collate as `None`, every failure is an error that says what went wrong.
public final class DataServerSource: SampleSource, @unchecked Sendable {
    public struct Options: Sendable {
        /// How long to wait for `GET /status` to answer `ready.` (polled every `readyPoll` s).
        public var readyTimeout: Double
        public var readyPoll: Double
        /// Per-request timeout in seconds (the original's 10).
        public var requestTimeout: Double
        /// Tries per request before giving up (the original's 3).
        public var attempts: Int
        /// Wait after the k-th failed try: `backoff · 2^k` seconds (the original's 0.3).
        public var backoff: Double

        public init(readyTimeout: Double = 60, readyPoll: Double = 1, requestTimeout: Double = 10,
                    attempts: Int = 3, backoff: Double = 0.3) {
            self.readyTimeout = readyTimeout
            self.readyPoll = readyPoll
            self.requestTimeout = requestTimeout
            self.attempts = max(1, attempts)
            self.backoff = backoff
        }
    }

    /// `http://host:port`, without a trailing slash.
    public let baseURL: String
    public let count: Int
    public let evalCount: Int
    public let options: Options
    private let session: URLSession

    /// Connects to the server at `url` (`http://host:port`): waits until it is ready, then reads
    /// the item count.
    /// - Throws: `DataError.serverUnreachable` when nothing answers, `.serverNotReady` after
    ///   `readyTimeout`, `.badServerAnswer` for answers outside the protocol, `.noTrainItems` when
    ///   the server has no more items than `evalCount`.
    public init(url: String, evalCount: Int, options: Options = Options()) throws {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("http://") || base.hasPrefix("https://"), URL(string: base)?.host != nil else {
            throw DataError.invalidArgument("\(url) is not a data-server URL; give one like http://127.0.0.1:8000")
        }
        guard evalCount >= 0 else {
            throw DataError.invalidArgument("the eval split must be 0 items or more (got \(evalCount))")
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = options.requestTimeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: configuration)
        let count: Int
        do {
            count = try Self.connect(base: base, session: session, options: options)
        } catch {
            session.finishTasksAndInvalidate()
            throw error
        }
        guard count > evalCount else {
            session.finishTasksAndInvalidate()
            throw DataError.noTrainItems("the server at \(base) has \(count) items, not more than the eval split of \(evalCount); lower the eval split or serve more data")
        }
        self.session = session
        self.baseURL = base
        self.options = options
        self.evalCount = evalCount
        self.count = count
    }

    /// The server at `http://host:port`.
    public convenience init(host: String = "127.0.0.1", port: Int = 8000, evalCount: Int, options: Options = Options()) throws {
        try self.init(url: "http://\(host):\(port)", evalCount: evalCount, options: options)
    }

    deinit { session.finishTasksAndInvalidate() }

    public func item(_ index: Int) throws -> String {
        guard index >= 0 && index < count else { throw DataError.indexOutOfRange(index: index, count: count) }
        let url = "\(baseURL)/data/\(index)"
        let (status, body) = try Self.get(url, session: session, options: options)
        guard status == 200 else {
            throw DataError.badServerAnswer(url: url, reason: "HTTP \(status) \(Self.excerpt(body))"
                + (status == 404 ? " (the server has fewer items than its count of \(count) said)" : ""))
        }
        switch StrictUTF8.decode(body) {
        case .success(let text): return text
        case .failure(let bad): throw DataError.badServerAnswer(url: url, reason: "the item is not UTF-8 (invalid byte at offset \(bad.offset))")
        }
    }

    /// The raw answer to `GET {baseURL}{path}`, with the retries (for tests and diagnostics).
    func get(path: String) throws -> (status: Int, body: Data) {
        try Self.get(baseURL + path, session: session, options: options)
    }

    // MARK: Protocol steps

    /// Polls `/status` until `ready.`, then returns `/count`.
    private static func connect(base: String, session: URLSession, options: Options) throws -> Int {
        let statusURL = "\(base)/status"
        let start = Date()
        while true {
            let (status, body) = try get(statusURL, session: session, options: options)
            guard status == 200 else { throw DataError.badServerAnswer(url: statusURL, reason: "HTTP \(status) \(excerpt(body))") }
            let answer = text(body)
            if answer == "ready." { break }
            let waited = Date().timeIntervalSince(start)
            if waited >= options.readyTimeout { throw DataError.serverNotReady(url: statusURL, lastAnswer: answer, waited: waited) }
            Thread.sleep(forTimeInterval: min(options.readyPoll, max(0, options.readyTimeout - waited)))
        }
        let countURL = "\(base)/count"
        let (status, body) = try get(countURL, session: session, options: options)
        guard status == 200 else { throw DataError.badServerAnswer(url: countURL, reason: "HTTP \(status) \(excerpt(body))") }
        let answer = text(body)
        guard let count = Int(answer), count >= 0 else {
            throw DataError.badServerAnswer(url: countURL, reason: "the count \"\(answer.prefix(80))\" is not a non-negative integer")
        }
        return count
    }

    /// One GET with the retries: no HTTP answer or a 5xx answer is tried again, other answers are
    /// returned as they are.
    static func get(_ url: String, session: URLSession, options: Options) throws -> (status: Int, body: Data) {
        guard let target = URL(string: url) else { throw DataError.invalidArgument("\(url) is not a valid URL") }
        var failure: (reason: String, reached: Bool) = ("", false)
        for attempt in 0..<options.attempts {
            if attempt > 0 { Thread.sleep(forTimeInterval: options.backoff * Double(1 << attempt)) }
            switch fetch(target, session: session, timeout: options.requestTimeout) {
            case .success(let (status, body)):
                if (500..<600).contains(status) && attempt + 1 < options.attempts { continue }
                return (status, body)
            case .failure(let error):
                failure = describe(error)
            }
        }
        if failure.reached {
            throw DataError.badServerAnswer(url: url, reason: "\(failure.reason) (\(options.attempts) tries)")
        }
        throw DataError.serverUnreachable(url: url, reason: failure.reason, attempts: options.attempts)
    }

    /// One request, waited for.
    private static func fetch(_ url: URL, session: URLSession, timeout: Double) -> Result<(Int, Data), Error> {
        final class Answer: @unchecked Sendable { var result: Result<(Int, Data), Error>? }
        let answer = Answer()
        let done = DispatchSemaphore(value: 0)
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "GET"
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                answer.result = .failure(error)
            } else if let http = response as? HTTPURLResponse {
                answer.result = .success((http.statusCode, data ?? Data()))
            } else {
                answer.result = .failure(URLError(.badServerResponse))
            }
            done.signal()
        }
        task.resume()
        done.wait()
        return answer.result ?? .failure(URLError(.unknown))
    }

    /// Words for a transport failure, and whether something did answer (so the server is up
    /// but does not speak HTTP, or dropped the connection).
    private static func describe(_ error: Error) -> (reason: String, reached: Bool) {
        guard let e = error as? URLError else { return ("\(error)", false) }
        switch e.code {
        case .cannotConnectToHost: return ("connection refused", false)
        case .timedOut: return ("no answer within the request timeout", false)
        case .cannotFindHost, .dnsLookupFailed: return ("unknown host", false)
        case .notConnectedToInternet: return ("no network", false)
        case .networkConnectionLost: return ("the connection was closed before a full answer", true)
        case .badServerResponse: return ("no valid HTTP answer (the connection closed early, or the answer is not HTTP)", true)
        default: return ("no valid HTTP answer: \(e.localizedDescription)", true)
        }
    }

    /// A body as trimmed text (bad bytes replaced: only for messages and short protocol words).
    private static func text(_ body: Data) -> String {
        String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func excerpt(_ body: Data) -> String {
        let t = text(body)
        return t.isEmpty ? "" : "\"\(t.prefix(120))\""
    }
}
