/// Where training and evaluation text comes from: items addressed by index, as the original's
/// TeleDS data server serves them (`GET /count`, `GET /data/{i}`). An item is a sentence (SVAE
/// training) or a passage (SLLM and OPT training); the first `evalCount` items are the eval split
/// and are never trained on.
public protocol SampleSource: AnyObject, Sendable {
    /// Every item, the eval split included.
    var count: Int { get }
    /// How many of the first items are the eval split.
    var evalCount: Int { get }
    /// Item `index` in `0..<count`.
    func item(_ index: Int) throws -> String
}

/// What a sample is made of: the unit the data server serves and the collation expects.
public enum SampleUnit: String, CaseIterable, Sendable {
    /// Clause-level sentences cut by the sentence splitter (SVAE training).
    case sentences
    /// Whole documents (SLLM and OPT training).
    case passages
}
