import ArgumentParser
import Tokenization

/// `sentencevae split`: the sentences SentenceVAE would encode, one per line.
struct SplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Split TEXT into sentences, one per line.",
        discussion: """
            Sentences end after ，。”！？；：,.!?;:" and line breaks (clause level: commas cut); \
            spaces and line breaks after a cut stay with the sentence before it.
            --mode original is exactly the original SentenceVAE's cut_sentence_func: text after the \
            last cut is dropped. --mode default keeps it, and does not cut inside numbers such as \
            3.14, 10,000 or 12:30.

            Plain output writes line breaks inside a sentence as \\n and \\r (and \\ as \\\\); \
            --json prints one JSON array of the exact strings. With no TEXT, standard input is read.
            """
    )

    @Option(name: .long, help: "original | default")
    var mode: SentenceSplitter.Mode = .default

    @Option(name: .long, help: "Keep at most N sentences (the original's max_sentence_num).")
    var maxSentences: Int?

    @Flag(name: .long, help: "Print one JSON array of sentences.")
    var json = false

    @Argument(help: "The passage to split. Reads standard input when absent.")
    var text: String?

    func validate() throws {
        if let n = maxSentences, n < 1 {
            throw ValidationError("--max-sentences must be at least 1 (got \(n)); leave it out for no limit")
        }
    }

    func run() throws {
        let sentences = SentenceSplitter(mode: mode, maxSentences: maxSentences).split(text ?? TextIO.readStandardInput())
        if json {
            print(try jsonLine(sentences))
            return
        }
        for s in sentences {
            print(s.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\r", with: "\\r"))
        }
    }
}

extension SentenceSplitter.Mode: ExpressibleByArgument {}
