import XCTest
import Tokenization
@testable import Training

final class LocalCorpusSourceTests: XCTestCase {
    /// Eight documents whose sentences name their document, so a sentence's origin is known.
    let corpus = Corpus(documents: (0..<8).map { d in
        (0...(d % 3)).map { s in "Doc \(d) sentence \(s)." }.joined(separator: " ")
    })

    func items(_ source: LocalCorpusSource) throws -> [String] {
        try (0..<source.count).map { try source.item($0) }
    }

    func testPassagesAreTheDocumentsInASeededOrder() throws {
        let a = try LocalCorpusSource(corpus: corpus, unit: .passages, evalDocuments: 3, seed: 7)
        XCTAssertEqual(a.count, 8)
        XCTAssertEqual(a.evalCount, 3)
        XCTAssertEqual(a.documentCount, 8)
        XCTAssertEqual(try items(a).sorted(), corpus.documents.sorted())
        let again = try LocalCorpusSource(corpus: corpus, unit: .passages, evalDocuments: 3, seed: 7)
        XCTAssertEqual(try items(a), try items(again))
        let other = try LocalCorpusSource(corpus: corpus, unit: .passages, evalDocuments: 3, seed: 8)
        XCTAssertNotEqual(try items(a), try items(other))
    }

    func testSentencesOfEvalDocumentsComeFirstAndNeverOverlapTrain() throws {
        let source = try LocalCorpusSource(corpus: corpus, unit: .sentences, evalDocuments: 3, seed: 7)
        let passages = try LocalCorpusSource(corpus: corpus, unit: .passages, evalDocuments: 3, seed: 7)
        let splitter = SentenceSplitter(mode: .original)
        // Same document order as the passage source: eval items are the eval documents' sentences.
        let evalDocuments = try (0..<3).map { try passages.item($0) }
        let expectedEval = evalDocuments.flatMap { splitter.split($0) }
        let all = try items(source)
        XCTAssertEqual(source.evalCount, expectedEval.count)
        XCTAssertEqual(Array(all[..<source.evalCount]), expectedEval)
        XCTAssertEqual(all.count, corpus.documents.flatMap { splitter.split($0) }.count)

        func document(of sentence: String) -> Substring { sentence.split(separator: " ")[1] }
        let evalDocs = Set(all[..<source.evalCount].map(document))
        let trainDocs = Set(all[source.evalCount...].map(document))
        XCTAssertEqual(evalDocs.count, 3)
        XCTAssertEqual(trainDocs.count, 5)
        XCTAssertTrue(evalDocs.isDisjoint(with: trainDocs))
    }

    func testSplitterModeDecidesWhatTrailingTextBecomes() throws {
        let corpus = Corpus(documents: ["One. two", "Three, four"])
        let original = try LocalCorpusSource(corpus: corpus, unit: .sentences, evalDocuments: 0, seed: 0)
        XCTAssertEqual(try items(original).sorted(), ["One. ", "Three, "])
        let better = try LocalCorpusSource(corpus: corpus, unit: .sentences, evalDocuments: 0, seed: 0, splitterMode: .default)
        XCTAssertEqual(try items(better).sorted(), ["One. ", "Three, ", "four", "two"])
    }

    func testEvalSplitMustLeaveTrainDocuments() {
        assertDataError(try LocalCorpusSource(corpus: corpus, unit: .passages, evalDocuments: 8, seed: 0),
                        contains: ["corpus of 8 documents is not larger than the eval split of 8"])
        assertDataError(try LocalCorpusSource(corpus: corpus, unit: .passages, evalDocuments: -1, seed: 0),
                        contains: ["0 documents or more"])
    }

    func testTrainDocumentsWithoutSentencesAreAnError() {
        let corpus = Corpus(documents: ["Has one.", "no punctuation here", "nor here"])
        // Whatever the order, at least one train document has no cut; with all three lacking…
        let none = Corpus(documents: ["no punctuation here", "nor here"])
        assertDataError(try LocalCorpusSource(corpus: none, unit: .sentences, evalDocuments: 0, seed: 0),
                        contains: ["train split has no items", "2 train documents give no sentence", "--splitter default"])
        XCTAssertNoThrow(try LocalCorpusSource(corpus: corpus, unit: .sentences, evalDocuments: 0, seed: 0))
    }

    func testItemOutOfRange() throws {
        let source = try LocalCorpusSource(corpus: corpus, unit: .passages, evalDocuments: 1, seed: 0)
        assertDataError(try source.item(8), contains: ["item 8 is out of range", "8 items"])
        assertDataError(try source.item(-1), contains: ["item -1 is out of range"])
    }
}
