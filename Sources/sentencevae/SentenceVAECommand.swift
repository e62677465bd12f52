import ArgumentParser

/// The `sentencevae` command-line tool: one subcommand per job, each in its own file.
@main
struct SentenceVAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentencevae",
        abstract: "SentenceVAE and sentence-level LLMs (arXiv 2408.00655) in Swift.",
        subcommands: [
            DemoCommand.self,
            SVAECommand.self,
            SLLMCommand.self,
            LLMCommand.self,
            TrainCommand.self,
            EvalCommand.self,
            ExportCommand.self,
            ConvertCommand.self,
            PlotCommand.self,
            DataCommand.self,
            TokenizeCommand.self,
            TokenizerCommand.self,
            SplitCommand.self,
            InspectCommand.self,
            ConfigCommand.self,
            BenchCommand.self,
        ]
    )

    /// Chooses the BLAS kernels (possibly re-executing: see `BLASStartup`) before anything else runs.
    static func main() {
        BLASStartup.run()
        main(nil)
    }
}
