import ArgumentParser
import Foundation
import Tokenization
import Training

/// `sentencevae tokenizer train`: a GPT-2-style byte-level BPE in OPT's layout, learned from a
/// corpus with the same merges as HF `tokenizers`' trainer.
struct TokenizerTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE tokenizer (OPT layout) on a corpus.",
        discussion: """
            CORPUS is read as `sentencevae train --data` reads it: a plain-text file (documents \
            separated by blank lines; the lines of a document are joined with a space), a .jsonl \
            file (one JSON object per line, the text in --jsonl-field), or a directory of .txt and \
            .jsonl files (recursive, in path order). It must be UTF-8.

            Each document is split with GPT-2's pre-tokenizer and the merges are learned as HF \
            tokenizers' ByteLevelBPETokenizer learns them (no prefix space, all 256 bytes in the \
            alphabet, ties between equally frequent pairs broken by the smaller pair of ids): the \
            same text and settings give the same merges.txt and vocab.json, byte for byte \
            (Tools/reference/check_trained_tokenizer.py checks that).

            The vocabulary is OPT's layout: <s>=0, <pad>=1, </s>=2, <unk>=3, then the 256 byte \
            symbols, then the merged tokens in the order they were learned; --vocab counts all of \
            them, so N - 260 merges at most. As OPT's, the tokenizer puts </s> (BOS and EOS) in \
            front of every text and pads with <pad>; <unk> is the unknown token. OUT receives \
            vocab.json, merges.txt, tokenizer.json, special_tokens_map.json and \
            tokenizer_config.json, which `sentencevae tokenize --tokenizer OUT`, \
            tokenizers.Tokenizer.from_file and transformers.AutoTokenizer all load. They are \
            written to a temporary directory first and moved into place when complete.

            Example (Tools/fetch-corpus fetches public-domain English prose):
              Tools/fetch-corpus corpus --only austen
              sentencevae tokenizer train corpus/austen.txt --vocab 8192 --out tok-austen
            """
    )

    @Argument(help: "A .txt or .jsonl file, or a directory of them.")
    var corpus: String

    @Option(name: .long, help: "Tokens in the finished vocabulary, the 4 special tokens and 256 byte symbols included (at least 260).")
    var vocab: Int

    @Option(name: .long, help: "Directory to write (refused if it exists and is not empty, unless --force).")
    var out: String

    @Option(name: .long, help: "Stop when the most frequent pair is seen fewer times than this (HF's default for byte-level BPE: 2).")
    var minFrequency: Int = 2

    @Option(name: .long, help: "The field of each JSONL object that holds the text.")
    var jsonlField: String = "content"

    @Flag(name: .long, help: "Replace OUT if it exists and is not empty.")
    var force = false

    @Flag(name: .long, help: "No progress on standard error.")
    var quiet = false

    func validate() throws {
        let minimum = BPETrainer(vocabularySize: vocab).minimumVocabularySize
        guard vocab >= minimum else {
            throw ValidationError("--vocab \(vocab) cannot hold the 4 special tokens and the 256 byte symbols; give at least \(minimum) (\(minimum) means no merges)")
        }
        guard minFrequency >= 0 else { throw ValidationError("--min-frequency must be 0 or more (got \(minFrequency))") }
    }

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> String { String(format: "%.1f s", Self.seconds(clock.now - start)) }

        do {
            try TokenizerDirectoryWriter.checkDestination(out, overwrite: force)
        } catch {
            throw CLIError(error)
        }
        let documents: Corpus
        do {
            documents = try Corpus.load(path: corpus, jsonlField: jsonlField)
        } catch DataError.invalidUTF8(let path, let offset) {
            throw CLIError(Self.invalidUTF8Message(path: path, offset: offset))
        } catch {
            throw CLIError(error)
        }
        for note in documents.notes { warn("note: \(note)") }

        var words = WordCounts()
        for d in documents.documents { words.add(d) }
        progress("\(documents.documents.count) documents, \(Self.megabytes(words.totalBytes)), "
                 + "\(words.totalWords) words (\(words.uniqueWords) distinct) read in \(elapsed())")

        let trainer = BPETrainer(vocabularySize: vocab, minFrequency: minFrequency)
        let interactive = isatty(STDERR_FILENO) != 0
        var reported = 0
        let trained = try trainer.train(words) { done, target in
            guard !quiet else { return }
            if interactive {
                FileHandle.standardError.write(Data("\rmerges \(done)/\(target)".utf8))
            } else if done * 10 / max(target, 1) > reported || done == target {
                reported = done * 10 / max(target, 1)
                warn("merges \(done)/\(target)")
            }
        }
        if interactive && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }

        do {
            try TokenizerDirectoryWriter().write(trained, to: out, overwrite: force)
        } catch {
            throw CLIError(error)
        }
        let why: String
        switch trained.stop {
        case .vocabularyFull: why = ""
        case .minFrequency(let best):
            why = "; stopped early: the most frequent pair left is seen \(best) time\(best == 1 ? "" : "s"), below --min-frequency \(minFrequency)"
        case .noPairsLeft: why = "; stopped early: no pairs left to merge"
        }
        print("wrote \(out): \(trained.vocabularySize) tokens (4 special, 256 bytes, \(trained.merges.count) merges) "
              + "in \(elapsed())\(why)")
    }

    private func progress(_ message: String) {
        if !quiet { warn(message) }
    }

    /// "path: invalid UTF-8 at line L, column C (byte offset N)", so the bad spot can be found.
    static func invalidUTF8Message(path: String, offset: Int) -> String {
        var line = 1, column = 1
        if let data = FileManager.default.contents(atPath: path) {
            for b in data.prefix(offset) where b & 0xC0 != 0x80 {
                if b == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
            }
        }
        return "\(path):\(line):\(column): invalid UTF-8 (byte offset \(offset)); convert the file to UTF-8 "
            + "(for example `iconv -f WINDOWS-1252 -t UTF-8`) or remove the bad bytes"
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
