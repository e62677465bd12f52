import ArgumentParser
import Foundation
import Tokenization

/// `sentencevae bench tokenizer`: encoding speed on one core, to compare with
/// Tools/reference/bench_tokenizers.py (tiktoken and HF tokenizers on the same file).
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Measure tokens/s of encoding FILE on one thread.",
        discussion: """
            FILE is encoded as one text without special tokens, --runs times, each time with a cold \
            word cache; the best run is reported. Build with `swift build -c release` first.
            """
    )

    @Option(name: .long, help: "Hugging Face tokenizer folder.")
    var tokenizer: String

    @Option(name: .long, help: "Number of timed runs; the best is reported.")
    var runs: Int = 5

    @Flag(name: .long, help: "Encode each line as its own text (many short calls) instead of the whole file.")
    var perLine = false

    @Argument(help: "A UTF-8 text file (a few MB of prose).")
    var file: String

    func validate() throws {
        if runs < 1 { throw ValidationError("--repeat must be at least 1") }
    }

    func run() throws {
        let tok = try Tokenizer.load(directory: tokenizer)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("cannot read \(file); pass a UTF-8 text file")
        }
        let text = String(decoding: data, as: UTF8.self)
        let lines = perLine ? text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) : [text]
        var ids: [Int32] = []
        ids.reserveCapacity(data.count)
        var best = Double.infinity
        for _ in 0..<runs {
            tok.model.clearCache()
            ids.removeAll(keepingCapacity: true)
            let start = DispatchTime.now().uptimeNanoseconds
            for line in lines { tok.appendIds(of: line, addSpecialTokens: false, to: &ids) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, seconds)
        }
        let mb = Double(data.count) / 1e6
        print(String(format: "swift-sentencevae%@: %d tokens, %.2f MB, best of %d: %.3f s, %.0f tokens/s, %.1f MB/s",
                     perLine ? " (per line)" : "", ids.count, mb, runs, best, Double(ids.count) / best, mb / best))
    }
}
