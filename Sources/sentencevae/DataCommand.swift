import ArgumentParser
import Dispatch
import Foundation
import Hummingbird
import Tokenization
import Training

/// `sentencevae data …`: the training data pipeline. One subcommand per job.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Serve and inspect training data.",
        subcommands: [DataServeCommand.self]
    )
}

/// `sentencevae data serve`: a corpus over the original's TeleDS protocol, so the original's
/// trainers (and ours, through `DataServerSource`) can read it.
struct DataServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a corpus over HTTP as the original's TeleDS data server.",
        discussion: """
            GET /status answers "ready.", GET /count the number of items, GET /data/{i} item i as \
            UTF-8 text (404 for an index out of range, 400 for one that is not an integer).

            CORPUS is a plain-text file (documents separated by blank lines; the lines of a \
            document are joined with a space), a .jsonl file (one JSON object per line, the text \
            in --jsonl-field), or a directory of .txt/.jsonl files (recursive, in path order).

            Documents are shuffled with --seed; the first --eval-documents of them are the eval \
            split, and their items come first: give the eval item count printed at start to the \
            trainer (the original's eval_samples). Items are sentences cut by --splitter (for \
            SentenceVAE training) or whole documents with --mode passages (SLLM and OPT training).
            """
    )

    @Argument(help: "A .txt or .jsonl file, or a directory of them.")
    var corpus: String

    @Option(name: .long, help: "Port to listen on (0: any free port; the URL printed at start has it).")
    var port: Int = 8000

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "sentences | passages")
    var mode: SampleUnit = .sentences

    @Option(name: .long, help: "Documents in the eval split (served first).")
    var evalDocuments: Int = 0

    @Option(name: .long, help: "Seed of the document order.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "The field of each JSONL object that holds the text.")
    var jsonlField: String = "content"

    @Option(name: .long, help: "original | default: how --mode sentences cuts documents (original: as the released checkpoints were trained).")
    var splitter: SentenceSplitter.Mode = .original

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535 (got \(port))") }
        guard evalDocuments >= 0 else { throw ValidationError("--eval-documents must be 0 or more (got \(evalDocuments))") }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: corpus) else { throw CLIError(DataError.missingPath(corpus)) }
        // The server listens while the corpus loads and answers /status with "loading." until it
        // is ready, as the original's does: a trainer started at the same time waits for it.
        let served = ServedCorpus()
        let router = Router()
        router.get("status") { _, _ in Self.plain(.ok, served.source == nil ? "loading." : "ready.") }
        router.get("count") { _, _ in
            guard let source = served.source else { return Self.loading }
            return Self.plain(.ok, "\(source.count)")
        }
        router.get("data/:index") { _, context -> Response in
            guard let source = served.source else { return Self.loading }
            let raw = context.parameters.get("index") ?? ""
            guard let index = Int(raw) else {
                return Self.plain(.badRequest, "the item index \"\(raw)\" is not an integer")
            }
            guard index >= 0 && index < source.count else {
                return Self.plain(.notFound, "item \(index) is out of range: there are \(source.count) items (0..<\(source.count))")
            }
            return Self.plain(.ok, try source.item(index))
        }

        let host = self.host, port = self.port, corpus = self.corpus
        let listening = DispatchSemaphore(value: 0)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                served.url = "http://\(host):\(channel.localAddress?.port ?? port)"
                print("listening at \(served.url); loading \(corpus)")
                fflush(stdout)
                listening.signal()
            }
        )
        let server = ServerTask { try await app.runService() }
        server.whenDone { listening.signal() }
        listening.wait()
        if let failure = server.failure {
            throw CLIError("cannot listen on \(host):\(port): \(failure); choose another --port, or --port 0 for any free one")
        }

        do {
            let loaded = try Corpus.load(path: corpus, jsonlField: jsonlField)
            for note in loaded.notes { print("note: \(note)") }
            let source = try LocalCorpusSource(corpus: loaded, unit: mode, evalDocuments: evalDocuments, seed: seed,
                                               splitterMode: splitter)
            let summary = summaryLines(source)
            print("serving \(summary[0]) at \(served.url)")
            for line in summary.dropFirst() { print(line) }
            fflush(stdout)
            served.source = source
        } catch {
            // Exiting with the error ends the listening server with the process.
            throw CLIError(error)
        }
        if let failure = server.wait() { throw CLIError("the data server stopped: \(failure)") }
    }

    /// What is served, for the start-up message (the first line goes before the URL).
    private func summaryLines(_ source: LocalCorpusSource) -> [String] {
        let unit = source.unit == .sentences ? "sentences" : "passages"
        let documents = source.evalDocuments == 1 ? "document" : "\(source.evalDocuments) documents"
        let what = source.unit == .sentences ? "the sentences (\(splitter) splitter) of the first \(documents)" : "the first \(documents)"
        var lines = ["\(source.count) \(unit) from \(source.documentCount) documents (seed \(seed))"]
        if source.evalCount > 0 {
            lines.append("eval split: items 0..<\(source.evalCount), \(what); give the trainer an eval count of \(source.evalCount)")
        } else {
            lines.append("eval split: none (--eval-documents 0); a client that keeps items for eval takes them from the train documents")
        }
        lines.append("train split: items \(source.evalCount)..<\(source.count)")
        return lines
    }

    private static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    private static var loading: Response {
        plain(.serviceUnavailable, "the corpus is still loading; poll /status until it answers \"ready.\"")
    }
}

/// The source being served, nil while the corpus loads; shared with the request handlers.
private final class ServedCorpus: @unchecked Sendable {
    private let lock = NSLock()
    private var _source: LocalCorpusSource?
    private var _url = ""

    var source: LocalCorpusSource? {
        get { lock.lock(); defer { lock.unlock() }; return _source }
        set { lock.lock(); _source = newValue; lock.unlock() }
    }

    var url: String {
        get { lock.lock(); defer { lock.unlock() }; return _url }
        set { lock.lock(); _url = newValue; lock.unlock() }
    }
}

/// The server's async run, driven from this synchronous command (the root command is not async).
/// SIGINT/SIGTERM end it gracefully.
private final class ServerTask: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var finished = false
    private var error: Error?
    private var onDone: [() -> Void] = []

    init(_ body: @escaping @Sendable () async throws -> Void) {
        Task.detached { [self] in
            do {
                try await body()
                finish(nil)
            } catch {
                finish(error)
            }
        }
    }

    private func finish(_ failure: Error?) {
        lock.lock()
        error = failure
        finished = true
        let callbacks = onDone
        lock.unlock()
        callbacks.forEach { $0() }
        done.signal()
    }

    /// What stopped the server (a port in use, say), once it has stopped.
    var failure: Error? { lock.lock(); defer { lock.unlock() }; return finished ? error : nil }

    /// Calls `body` once the server has ended (at once if it has).
    func whenDone(_ body: @escaping () -> Void) {
        lock.lock()
        if finished {
            lock.unlock()
            body()
            return
        }
        onDone.append(body)
        lock.unlock()
    }

    /// Waits for the end; returns what stopped the server, nil for a clean stop.
    func wait() -> Error? {
        done.wait()
        done.signal()
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}

extension SampleUnit: ExpressibleByArgument {}
