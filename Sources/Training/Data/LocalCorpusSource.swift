import TensorCore
import Tokenization

/// A `SampleSource` over a corpus in memory: what `sentencevae data serve` serves, and what a
/// trainer reads directly when no server is wanted.
///
/// Documents are put in an order fixed by `seed` (a Fisher–Yates shuffle with
/// `RandomGenerator(seed:)`); the first `evalDocuments` of them are the eval split. Items are
/// whole documents (`.passages`) or their sentences (`.sentences`), the eval documents' items first,
/// so `evalCount` items never overlap the train items. Splitting by document keeps the sentences of
/// one passage out of both splits at once.
public final class LocalCorpusSource: SampleSource {
    public let unit: SampleUnit
    public let documentCount: Int
    public let evalDocuments: Int
    public let evalCount: Int
    public var count: Int { items.count }
    private let items: [String]

    /// - Parameters:
    ///   - splitterMode: how `.sentences` cuts documents; `.original` by default, what the
    ///     released checkpoints were trained on. Ignored for `.passages`.
    /// - Throws: `DataError.evalSplitTooLarge` when the corpus has no more documents than the eval
    ///   split, `DataError.noTrainItems` when the train documents give no item.
    public init(corpus: Corpus, unit: SampleUnit, evalDocuments: Int, seed: UInt64,
                splitterMode: SentenceSplitter.Mode = .original) throws {
        guard evalDocuments >= 0 else {
            throw DataError.invalidArgument("the eval split must be 0 documents or more (got \(evalDocuments))")
        }
        let n = corpus.documents.count
        guard n > evalDocuments else { throw DataError.evalSplitTooLarge(documents: n, evalDocuments: evalDocuments) }

        var order = Array(0..<n)
        var generator = RandomGenerator(seed: seed)
        generator.shuffle(&order)

        var items: [String] = []
        var evalCount = 0
        switch unit {
        case .passages:
            items = order.map { corpus.documents[$0] }
            evalCount = evalDocuments
        case .sentences:
            let splitter = SentenceSplitter(mode: splitterMode)
            for (position, document) in order.enumerated() {
                items += splitter.split(corpus.documents[document])
                if position == evalDocuments - 1 { evalCount = items.count }
            }
            guard items.count > evalCount else {
                throw DataError.noTrainItems("the \(n - evalDocuments) train documents give no sentence with the \(splitterMode) splitter"
                    + (splitterMode == .original ? " (it drops text after the last punctuation mark; try --splitter default)" : ""))
            }
        }
        self.unit = unit
        self.documentCount = n
        self.evalDocuments = evalDocuments
        self.evalCount = evalCount
        self.items = items
    }

    public func item(_ index: Int) throws -> String {
        guard index >= 0 && index < items.count else { throw DataError.indexOutOfRange(index: index, count: items.count) }
        return items[index]
    }
}
