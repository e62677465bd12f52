import ArgumentParser
import Foundation
import Tokenization

/// `sentencevae tokenize`: text → ids (or ids → text with `--decode`) with a HF tokenizer folder.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of each TEXT, or with --decode the text of ids.",
        discussion: """
            TOKENIZER is a Hugging Face tokenizer folder: tokenizer.json, or vocab.json + merges.txt \
            (GPT-2 and OPT layouts) with optional tokenizer_config.json/special_tokens_map.json. \
            OPT's folder prepends </s> (id 2) to every text; --no-special-tokens leaves it out.

            With no TEXT the whole of standard input is one text (with --lines: each line is one, \
            without its line break); invalid UTF-8 becomes U+FFFD. \
            With --decode the TEXT arguments are the ids of one sequence ("2 31414 232" or \
            "[2, 31414, 232]"); from standard input each line is one sequence.
            """
    )

    @Option(name: .long, help: "Hugging Face tokenizer folder.")
    var tokenizer: String

    @Flag(name: .long, help: "Print one JSON array of ids (with --decode: one JSON string) per text.")
    var json = false

    @Flag(name: .long, help: "With no TEXT, treat each line of standard input as its own text.")
    var lines = false

    @Flag(name: .long, help: "Read ids and print their text.")
    var decode = false

    @Flag(name: .long, help: "Do not add the tokenizer's BOS/EOS around each text.")
    var noSpecialTokens = false

    @Flag(name: .long, help: "With --decode, leave out special tokens such as </s> and <pad>.")
    var skipSpecialTokens = false

    @Argument(help: "Texts to tokenize (or ids to decode). Reads standard input when absent.")
    var texts: [String] = []

    func run() throws {
        let tok = try Tokenizer.load(directory: tokenizer)
        if decode {
            let sequences = texts.isEmpty
                ? TextIO.readStandardInput().split(whereSeparator: \.isNewline).map(String.init)
                : [texts.joined(separator: " ")]
            for line in sequences {
                let text = tok.decode(try parseIds(line), skipSpecialTokens: skipSpecialTokens)
                print(json ? try jsonLine([text]).dropFirst().dropLast() : Substring(text))
            }
            return
        }
        let inputs: [String]
        if !texts.isEmpty {
            inputs = texts
        } else if lines {
            // "\r\n" is one Character in Swift, so it is a separator of its own.
            let all = TextIO.readStandardInput()
            var parts = all.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            if all.last == "\n" || all.last == "\r\n" { parts.removeLast() }
            inputs = parts.map(String.init)
        } else {
            inputs = [TextIO.readStandardInput()]
        }
        for text in inputs {
            let ids = tok.encode(text, addSpecialTokens: !noSpecialTokens)
            print(json ? "[" + ids.map(String.init).joined(separator: ", ") + "]"
                       : ids.map(String.init).joined(separator: " "))
        }
    }

    private func parseIds(_ line: String) throws -> [Int] {
        let separators = CharacterSet(charactersIn: "[], \t")
        return try line.components(separatedBy: separators).filter { !$0.isEmpty }.map { field in
            guard let id = Int(field) else {
                throw CLIError("--decode expects token ids such as \"2 31414 232\"; \"\(field)\" is not an integer")
            }
            return id
        }
    }
}
