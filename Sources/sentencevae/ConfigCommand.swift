import ArgumentParser
import Foundation
import ModelIO

/// `sentencevae config FILE`: the fully resolved config, as YAML.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print a YAML config with its __base__ includes resolved.",
        discussion: """
            Resolves `__base__: !include path` inheritance (paths relative to the including file; the file's \
            keys recursively update the base), checks the result as an SVAE or SLLM config (a missing key or \
            wrong type is an error, an unknown key a warning on stderr), and prints it as YAML.
            """
    )

    @Argument(help: "A YAML config, e.g. Configs/SVAE/SVAE-768/svae_768_h1.yaml.")
    var file: String

    @Flag(help: "Print the resolved YAML without checking it against the SVAE/SLLM schema.")
    var raw = false

    func run() throws {
        do {
            let value = try YAMLConfig.load(path: file)
            if !raw {
                let typed: ModelConfig
                if value["svae"] != nil || value["llm"] != nil {
                    typed = .sllm(try SLLMConfig(value, file: file))
                } else {
                    typed = .svae(try SVAEConfig(value, file: file))
                }
                for w in typed.warnings { FileHandle.standardError.write(Data(("warning: " + w + "\n").utf8)) }
            }
            print(value.yaml(), terminator: "")
        } catch let e as ModelIOError {
            throw CLIError(e)
        }
    }
}
