import ArgumentParser

/// `sentencevae bench …`: speed measurements. Each benchmark is a subcommand.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of kernels and models.",
        subcommands: [BenchKernelsCommand.self, BenchOPTCommand.self, BenchGenerateCommand.self, BenchTrainCommand.self, BenchIOCommand.self, BenchTokenizerCommand.self]
    )
}
