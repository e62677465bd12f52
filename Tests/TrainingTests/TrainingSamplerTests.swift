import XCTest
@testable import Training

final class TrainingSamplerTests: XCTestCase {
    func testEachEpochIsAPermutationOfTheTrainSplit() throws {
        let sampler = try TrainingSampler(seed: 3, evalCount: 4, count: 17)
        XCTAssertEqual(sampler.trainCount, 13)
        var epochs: [[Int]] = []
        for e in 0..<4 {
            let epoch = (e * 13..<(e + 1) * 13).map { sampler.index(sample: $0) }
            XCTAssertEqual(epoch.sorted(), Array(4..<17), "epoch \(e)")
            epochs.append(epoch)
        }
        XCTAssertEqual(Set(epochs).count, 4, "every epoch has its own order")
    }

    func testOrderIsAFunctionOfSeedAndSampleNumberOnly() throws {
        let a = try TrainingSampler(seed: 11, evalCount: 2, count: 50)
        let sequential = (0..<200).map { a.index(sample: $0) }
        // Random access (epochs out of order) gives the same answers: the cache changes nothing.
        let b = try TrainingSampler(seed: 11, evalCount: 2, count: 50)
        for k in [150, 3, 199, 48, 49, 0, 120, 97] {
            XCTAssertEqual(b.index(sample: k), sequential[k], "sample \(k)")
        }
        let other = try TrainingSampler(seed: 12, evalCount: 2, count: 50)
        XCTAssertNotEqual((0..<200).map { other.index(sample: $0) }, sequential)
    }

    func testStepsAreConsecutiveRunsOfSamplesWhateverTheBatchSize() throws {
        let sampler = try TrainingSampler(seed: 0, evalCount: 0, count: 10)
        let bySample = (0..<24).map { sampler.index(sample: $0) }
        XCTAssertEqual((0..<6).flatMap { sampler.indices(step: $0, batchSize: 4) }, bySample)
        XCTAssertEqual((0..<8).flatMap { sampler.indices(step: $0, batchSize: 3) }, bySample)
        // Resuming at step 5 of batch size 4 reads on from sample 20.
        XCTAssertEqual(sampler.indices(step: 5, batchSize: 4), Array(bySample[20..<24]))
    }

    /// The orders are part of a run's resumable state: a change to the shuffle or the epoch seed
    /// would silently change what a resumed run trains on. These are the orders of seed 0, as an
    /// independent Python transcription of SplitMix64 + xoshiro256** + Fisher–Yates also gives them.
    func testOrdersArePinned() throws {
        let sampler = try TrainingSampler(seed: 0, evalCount: 0, count: 10)
        XCTAssertEqual((0..<10).map { sampler.index(sample: $0) }, Self.pinnedEpoch0)
        XCTAssertEqual((10..<20).map { sampler.index(sample: $0) }, Self.pinnedEpoch1)
    }
    static let pinnedEpoch0 = [1, 3, 9, 2, 4, 5, 7, 6, 0, 8]
    static let pinnedEpoch1 = [7, 9, 0, 1, 3, 4, 5, 8, 6, 2]

    func testSourceInitialiserUsesItsSplit() throws {
        let source = try LocalCorpusSource(corpus: Corpus(documents: ["a", "b", "c", "d"]), unit: .passages,
                                           evalDocuments: 1, seed: 0)
        let sampler = try TrainingSampler(source: source, seed: 5)
        XCTAssertEqual(sampler.evalCount, 1)
        XCTAssertEqual((0..<9).map { sampler.index(sample: $0) }.filter { $0 < 1 }, [], "never an eval item")
    }

    func testNoTrainItemsIsAnError() {
        assertDataError(try TrainingSampler(seed: 0, evalCount: 5, count: 5), contains: ["train split has no items", "5 items"])
    }
}
