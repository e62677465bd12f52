import Foundation
import XCTest
@testable import Training

/// The data-server client against a canned loopback listener: the protocol's answers, and every
/// way an answer can be wrong.
final class DataServerSourceTests: XCTestCase {
    /// Fast retries so the failure cases take milliseconds.
    let fast = DataServerSource.Options(readyTimeout: 0.3, readyPoll: 0.05, requestTimeout: 2, attempts: 3, backoff: 0.01)

    /// A well-behaved server of `items`, with `override` answering some paths differently.
    func server(_ items: [String], override: @escaping @Sendable (String) -> CannedHTTPServer.Reply? = { _ in nil }) throws -> CannedHTTPServer {
        let server = try CannedHTTPServer { path in
            if let reply = override(path) { return reply }
            switch path {
            case "/status": return .http(200, Array("ready.\n".utf8))
            case "/count": return .http(200, Array("\(items.count)".utf8))
            default:
                if path.hasPrefix("/data/"), let i = Int(path.dropFirst(6)), items.indices.contains(i) {
                    return .http(200, Array(items[i].utf8))
                }
                return .http(404, Array("no such item".utf8))
            }
        }
        addTeardownBlock { server.stop() }
        return server
    }

    func testReadsCountAndItems() throws {
        let items = ["Eval one.", "Eval two.", "Train 中文。", " spaces kept \n"]
        let server = try server(items)
        let source = try DataServerSource(url: server.url + "/", evalCount: 2, options: fast)
        XCTAssertEqual(source.baseURL, server.url)
        XCTAssertEqual(source.count, 4)
        XCTAssertEqual(source.evalCount, 2)
        XCTAssertEqual(try (0..<4).map { try source.item($0) }, items)
        XCTAssertEqual(Array(server.requests.prefix(2)), ["/status", "/count"])
        assertDataError(try source.item(4), contains: ["item 4 is out of range", "4 items"])
    }

    func testWaitsUntilReady() throws {
        final class Polls: @unchecked Sendable { var n = 0; let lock = NSLock() }
        let polls = Polls()
        let server = try server(["a", "b"]) { path in
            guard path == "/status" else { return nil }
            polls.lock.lock(); defer { polls.lock.unlock() }
            polls.n += 1
            return .http(200, Array((polls.n < 3 ? "loading." : "ready.").utf8))
        }
        let options = DataServerSource.Options(readyTimeout: 5, readyPoll: 0.02, attempts: 1)
        XCTAssertEqual(try DataServerSource(url: server.url, evalCount: 1, options: options).count, 2)
        XCTAssertEqual(server.requests.filter { $0 == "/status" }.count, 3)
    }

    func testNeverReadyIsAnError() throws {
        let server = try server(["a", "b"]) { $0 == "/status" ? .http(200, Array("loading.".utf8)) : nil }
        assertDataError(try DataServerSource(url: server.url, evalCount: 0, options: fast),
                        contains: [server.url + "/status", "did not answer \"ready.\"", "last answer: \"loading.\""])
    }

    func testServerDownNamesTheURLAndHowToStartOne() throws {
        let server = try CannedHTTPServer { _ in .http(200, []) }
        let url = server.url, port = server.port
        server.stop()
        assertDataError(try DataServerSource(url: url, evalCount: 0, options: fast),
                        contains: ["cannot reach \(url)/status", "connection refused", "3 tries",
                                   "sentencevae data serve CORPUS --port \(port)"])
    }

    func testGarbageThatIsNotHTTPIsRetriedThenReported() throws {
        for garbage in ["banana\r\n\r\n", ""] {
            let server = try server([]) { _ in .raw(Array(garbage.utf8)) }
            assertDataError(try DataServerSource(url: server.url, evalCount: 0, options: fast),
                            contains: ["\(server.url)/status: no valid HTTP answer", "3 tries", "is this a TeleDS data server"])
            XCTAssertEqual(server.requests, ["/status", "/status", "/status"])
        }
    }

    func testCountThatIsNotAnInteger() throws {
        let server = try server(["a"]) { $0 == "/count" ? .http(200, Array("many".utf8)) : nil }
        assertDataError(try DataServerSource(url: server.url, evalCount: 0, options: fast),
                        contains: [server.url + "/count", "\"many\" is not a non-negative integer", "sentencevae data serve"])
    }

    func testCountNotLargerThanTheEvalSplit() throws {
        let server = try server(["a", "b", "c"])
        assertDataError(try DataServerSource(url: server.url, evalCount: 3, options: fast),
                        contains: ["train split has no items", "has 3 items, not more than the eval split of 3"])
    }

    func testNon200AnswersAreErrors() throws {
        let status = try server(["a"]) { $0 == "/status" ? .http(403, Array("go away".utf8)) : nil }
        assertDataError(try DataServerSource(url: status.url, evalCount: 0, options: fast),
                        contains: [status.url + "/status", "HTTP 403", "\"go away\""])

        let items = try server(["a", "b", "c"]) { path in
            switch path {
            case "/data/1": return .http(404, Array("gone".utf8))
            case "/data/2": return .http(503, Array("busy".utf8))
            default: return nil
            }
        }
        let source = try DataServerSource(url: items.url, evalCount: 0, options: fast)
        assertDataError(try source.item(1), contains: [items.url + "/data/1", "HTTP 404", "fewer items than its count of 3"])
        assertDataError(try source.item(2), contains: [items.url + "/data/2", "HTTP 503", "\"busy\""])
        XCTAssertEqual(items.requests.filter { $0 == "/data/2" }.count, 3, "5xx answers are retried")
        XCTAssertEqual(items.requests.filter { $0 == "/data/1" }.count, 1, "4xx answers are not")
    }

    func testItemThatIsNotUTF8() throws {
        let server = try server(["a", "b"]) { $0 == "/data/1" ? .http(200, [0x6F, 0x6B, 0xFF, 0x21]) : nil }
        let source = try DataServerSource(url: server.url, evalCount: 1, options: fast)
        assertDataError(try source.item(1), contains: [server.url + "/data/1", "not UTF-8", "offset 2"])
    }

    func testURLMustBeHTTP() {
        assertDataError(try DataServerSource(url: "127.0.0.1:8000", evalCount: 0, options: fast),
                        contains: ["not a data-server URL", "http://127.0.0.1:8000"])
    }
}
