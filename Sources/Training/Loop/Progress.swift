import Foundation

/// The live line while training: iteration/total, loss, lr, tokens/s, ETA. On a terminal it
/// rewrites one line; otherwise (a log file, CI) it prints a plain line every `every` iterations.
public struct Progress {
    let total: Int
    let every: Int
    let terminal = isatty(fileno(stderr)) != 0
    let started = Date()
    let startIteration: Int
    /// Prints nothing (the ranks of a data-parallel job other than 0).
    let silent: Bool

    public init(total: Int, every: Int, startIteration: Int, silent: Bool = false) {
        self.total = total
        self.every = max(every, 1)
        self.startIteration = startIteration
        self.silent = silent
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds)
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    public func update(iteration: Int, loss: Double, lr: Double, tokensPerSecond: Double) {
        guard !silent, terminal || iteration % every == 0 || iteration == total else { return }
        let elapsed = Date().timeIntervalSince(started)
        let done = iteration - startIteration
        let eta = done > 0 ? elapsed / Double(done) * Double(total - iteration) : .nan
        let line = String(format: "iter %d/%d  loss %.4f  lr %.3e  %.0f tok/s  elapsed %@  ETA %@",
                          iteration, total, loss, lr, tokensPerSecond, Self.duration(elapsed), Self.duration(eta))
        if terminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Prints a message on its own line (ends a live line first).
    public func note(_ message: String) {
        guard !silent else { return }
        FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + message + "\n").utf8))
    }
}
