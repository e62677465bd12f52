import Foundation

/// Text in and out for the text commands (`tokenize`, `split`, `bench tokenizer`).
enum TextIO {
    /// All of standard input as text; invalid UTF-8 becomes U+FFFD, never a crash.
    static func readStandardInput() -> String {
        String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
}
