/// An error the CLI reports as `Error: <message>` with exit status 1 (no usage text: the command
/// line was fine, the input or a file was not).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ error: Error) { description = String(describing: error) }
    init(_ message: String) { description = message }
}
