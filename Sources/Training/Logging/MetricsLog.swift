import Foundation

/// The curves of a run as read back from its work directory's `metrics.jsonl`: one JSON object per
/// line, training lines with `iter`, `loss`, `lr`, … and evaluation lines with `iter`, `eval_ppl`, ….
/// Keys it does not plot are ignored, so the trainer can log more without breaking this reader.
public struct MetricsLog: Sendable {
    public struct TrainingPoint: Equatable, Sendable {
        public let iter: Int
        public let loss: Double?
        public let lr: Double?
    }

    public struct EvalPoint: Equatable, Sendable {
        public let iter: Int
        public let ppl: Double
    }

    /// Sorted by iteration; when an iteration is logged twice (a run resumed from an earlier
    /// checkpoint logs it again), the later line wins.
    public private(set) var training: [TrainingPoint] = []
    public private(set) var evaluation: [EvalPoint] = []
    /// What was skipped and why (a torn last line after a kill, a line that is not JSON), for the user.
    public private(set) var notes: [String] = []

    public var isEmpty: Bool { training.isEmpty && evaluation.isEmpty }

    /// Reads `path` (a `metrics.jsonl` file).
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
            throw LoggingError(path: path, reason: !exists ? "no such file; the trainer writes metrics.jsonl into its work directory"
                : isDir.boolValue ? "is a directory, not a metrics.jsonl file" : "cannot read the file (check its permissions)")
        }
        self.init(text: String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses the text of a `metrics.jsonl` file; `source` names it in notes.
    public init(text: String, source: String = "metrics.jsonl") {
        var train: [Int: TrainingPoint] = [:]
        var eval: [Int: EvalPoint] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The text after the last newline is empty when the file ended cleanly.
        let endsCleanly = lines.last?.isEmpty ?? true
        if endsCleanly, !lines.isEmpty { lines.removeLast() }
        let decoder = JSONDecoder()
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let entry = try? decoder.decode(Line.self, from: Data(line.utf8)) else {
                if i == lines.count - 1, !endsCleanly {
                    notes.append("\(source): line \(i + 1) is cut short (the run was killed while writing it); ignored")
                } else {
                    notes.append("\(source): line \(i + 1) is not a JSON object; skipped")
                }
                continue
            }
            guard let iter = entry.iter else {
                notes.append("\(source): line \(i + 1) has no integer 'iter'; skipped")
                continue
            }
            if entry.loss != nil || entry.lr != nil { train[iter] = TrainingPoint(iter: iter, loss: entry.loss, lr: entry.lr) }
            if let ppl = entry.evalPPL { eval[iter] = EvalPoint(iter: iter, ppl: ppl) }
        }
        training = train.values.sorted { $0.iter < $1.iter }
        evaluation = eval.values.sorted { $0.iter < $1.iter }
    }

    /// The keys of one line that the plot uses; a key with another type (or a non-finite number)
    /// counts as absent, and every other key is ignored.
    private struct Line: Decodable {
        let iter: Int?, loss: Double?, lr: Double?, evalPPL: Double?

        enum CodingKeys: String, CodingKey { case iter, loss, lr, evalPPL = "eval_ppl" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func finite(_ key: CodingKeys) -> Double? {
                (try? c.decodeIfPresent(Double.self, forKey: key)).flatMap { $0 }.flatMap { $0.isFinite ? $0 : nil }
            }
            iter = (try? c.decodeIfPresent(Int.self, forKey: .iter)).flatMap { $0 }
            loss = finite(.loss); lr = finite(.lr); evalPPL = finite(.evalPPL)
        }
    }
}
