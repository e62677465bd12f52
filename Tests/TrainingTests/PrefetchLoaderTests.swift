import Foundation
import XCTest
@testable import Training

final class PrefetchLoaderTests: XCTestCase {
    /// Steps `make` was called with, shared with the loader's thread.
    final class Calls: @unchecked Sendable {
        private let lock = NSLock()
        private var steps: [Int] = []
        func append(_ s: Int) { lock.lock(); steps.append(s); lock.unlock() }
        var all: [Int] { lock.lock(); defer { lock.unlock() }; return steps }

        /// Waits (up to 5 s) until `count` calls were made.
        func wait(for count: Int) {
            let deadline = Date().addingTimeInterval(5)
            while all.count < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        }
    }

    struct Boom: Error, Equatable { let step: Int }

    func testStepsComeInOrderFromTheStartStep() throws {
        let calls = Calls()
        let loader = PrefetchLoader(startStep: 5, depth: 3) { step -> String in
            calls.append(step)
            return "batch \(step)"
        }
        XCTAssertEqual(loader.nextStep, 5)
        let got = try (0..<10).map { _ in try loader.next() }
        XCTAssertEqual(got, (5..<15).map { "batch \($0)" })
        XCTAssertEqual(loader.nextStep, 15)
        calls.wait(for: 13)
        XCTAssertEqual(Array(calls.all.prefix(13)), Array(5..<18), "made in order, once each")
    }

    func testMakesAtMostDepthStepsAhead() throws {
        let calls = Calls()
        let loader = PrefetchLoader(startStep: 0, depth: 2) { step -> Int in
            calls.append(step)
            return step
        }
        calls.wait(for: 2)
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(calls.all, [0, 1], "two ahead, then it waits for the consumer")
        XCTAssertEqual(try loader.next(), 0)
        calls.wait(for: 3)
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(calls.all, [0, 1, 2])
    }

    func testAnErrorReachesTheConsumerAtItsStep() throws {
        let loader = PrefetchLoader(startStep: 0) { step -> Int in
            if step == 2 { throw Boom(step: step) }
            return step * 10
        }
        XCTAssertEqual(try loader.next(), 0)
        XCTAssertEqual(try loader.next(), 10)
        XCTAssertThrowsError(try loader.next()) { XCTAssertEqual($0 as? Boom, Boom(step: 2)) }
        XCTAssertEqual(try loader.next(), 30, "the steps after a failed one are still made")
    }

    func testStopEndsTheThreadAndNextThrows() throws {
        let calls = Calls()
        let loader = PrefetchLoader(startStep: 0, depth: 2) { step -> Int in
            calls.append(step)
            return step
        }
        XCTAssertEqual(try loader.next(), 0)
        loader.stop()
        let made = calls.all.count
        XCTAssertThrowsError(try loader.next()) { error in
            XCTAssertEqual(error as? DataError, .loaderStopped(step: 1))
        }
        loader.stop()
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(calls.all.count, made, "nothing is made after stop() returns")
    }

    func testDroppingTheLoaderStopsItsThread() throws {
        let calls = Calls()
        weak var weakLoader: PrefetchLoader<Int>?
        do {
            let loader = PrefetchLoader(startStep: 0, depth: 1) { step -> Int in
                calls.append(step)
                return step
            }
            weakLoader = loader
            XCTAssertEqual(try loader.next(), 0)
            calls.wait(for: 2)
        }
        XCTAssertNil(weakLoader, "the thread does not keep the loader alive")
        let made = calls.all.count
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(calls.all.count, made)
    }

    func testStopWaitsForAStepInProgress() throws {
        let started = DispatchSemaphore(value: 0)
        let finished = Calls()
        let loader = PrefetchLoader(startStep: 0, depth: 1) { step -> Int in
            started.signal()
            Thread.sleep(forTimeInterval: 0.2)
            finished.append(step)
            return step
        }
        started.wait()
        loader.stop()
        XCTAssertEqual(finished.all, [0], "stop() returned only after make(0) did")
    }
}
