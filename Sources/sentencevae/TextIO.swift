import Foundation

/// Text in and out for the text commands (`tokenize`, `split`, `bench tokenizer`).
enum TextIO {
    /// All of standard input as text; invalid UTF-8 becomes U+FFFD, never a crash.
    static func readStandardInput() -> String {
        String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }

    /// A JSON array of strings on one line, written by Foundation.
    static func jsonArray(_ strings: [String]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: strings, options: [.withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// Bad input found while running (not a usage error): printed as "Error: …", exit status 1,
    /// without the usage text `ValidationError` adds.
    struct InputError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
