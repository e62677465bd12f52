import ArgumentParser

/// `sentencevae tokenizer …`: making tokenizers (using one is `sentencevae tokenize`).
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train byte-level BPE tokenizers.",
        subcommands: [TokenizerTrainCommand.self]
    )
}
