/// Splits a passage into the clause-level "sentences" SentenceVAE encodes one vector each.
///
/// The rules are the original `PassageCollate.cut_sentence_func`: cut after any of
/// `，。”！？；：,.!?;:"`, `\n`, `\r`, or after one of the two-character pairs below; spaces and
/// line breaks that follow a cut stay with the sentence before it. Positions count Unicode scalars
/// (Python code points), not Swift `Character`s, so `"\r\n"` is two positions as in the original.
///
/// - `.original` keeps the original's behaviour exactly, quirks included: text after the last cut
///   is dropped and a lone `"` is a sentence. The released checkpoints were trained on this.
/// - `.default` keeps trailing text as a last sentence and does not cut at `.`, `,` or `:` between
///   two digits (`3.14`, `10,000`, `12:30`). Without a sentence limit it loses nothing: the
///   sentences joined are the text.
public struct SentenceSplitter: Sendable {
    public enum Mode: String, CaseIterable, Sendable {
        case original
        case `default`
    }

    public var mode: Mode
    /// At most this many sentences (the original's `max_sentence_num`); nil for no limit.
    public var maxSentences: Int?

    public init(mode: Mode = .default, maxSentences: Int? = nil) {
        self.mode = mode
        self.maxSentences = maxSentences
    }

    /// Single scalars after which the original cuts.
    static let cuts: Set<UInt32> = Set("，。”！？；：,.!?;:\"\n\r".unicodeScalars.map(\.value))

    /// Two-scalar sequences after which the original cuts (checked before single scalars). Note
    /// `!”` pairs an ASCII `!` with a curly quote, as in the original.
    static let pairs: Set<UInt64> = Set(
        ["……", "，”", "”，", "。”", "”。", "!”", "”！", "？”", "”？",
         ",\"", "\",", ".\"", "\".", "!\"", "\"!", "?\"", "\"?"].map { pair -> UInt64 in
            let s = Array(pair.unicodeScalars)
            return UInt64(s[0].value) << 32 | UInt64(s[1].value)
        })

    /// The sentences of `text`, in order; empty text gives no sentences.
    public func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        let n = s.count
        let limit = maxSentences ?? Int.max
        var sentences: [String] = []
        var p = 0, last = 0
        func isDigit(_ i: Int) -> Bool {
            i >= 0 && i < n && s[i].properties.generalCategory == .decimalNumber
        }
        while p < n && sentences.count < limit {
            if p + 1 < n && Self.pairs.contains(UInt64(s[p].value) << 32 | UInt64(s[p + 1].value)) {
                p += 2
            } else if Self.cuts.contains(s[p].value) {
                if mode == .default && (s[p] == "." || s[p] == "," || s[p] == ":") && isDigit(p - 1) && isDigit(p + 1) {
                    p += 1
                    continue
                }
                p += 1
            } else {
                p += 1
                continue
            }
            while p < n && (s[p] == " " || s[p] == "\n" || s[p] == "\r") { p += 1 }
            sentences.append(Self.string(s[last..<p]))
            last = p
        }
        if mode == .default && last < n && sentences.count < limit {
            let tail = Self.string(s[last..<n])
            // Whitespace the cut rule did not absorb (a tab, say) joins the sentence before it
            // instead of becoming a sentence of its own.
            if !sentences.isEmpty && s[last..<n].allSatisfy(\.properties.isWhitespace) {
                sentences[sentences.count - 1] += tail
            } else {
                sentences.append(tail)
            }
        }
        return sentences
    }

    /// `sentence` as a sentence inside a text reads: ending in whitespace. A cut keeps the spaces
    /// after it with the sentence before, so only a text's last sentence lacks one; the SLLM would
    /// learn "no trailing space = the text ends" (an exact cue in training, and wrong on every
    /// prompt), so its passages and prompts give every sentence this form.
    public static func insideText(_ sentence: String) -> String {
        guard let last = sentence.unicodeScalars.last, !last.properties.isWhitespace else { return sentence }
        return sentence + " "
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
