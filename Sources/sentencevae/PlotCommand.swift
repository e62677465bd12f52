import ArgumentParser
import Foundation
import ModelIO
import Training

/// `sentencevae plot WORKDIR -o curves.svg`: a run's curves as a picture, from its metrics.jsonl.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a run's training loss, learning rate and eval PPL against the iteration as an SVG.",
        discussion: """
            WORKDIR is a training work directory (or its metrics.jsonl file itself). Lines with 'loss' \
            and 'lr' are training points, lines with 'eval_ppl' evaluations; other keys are ignored. \
            An iteration logged twice (a resumed run) is plotted once, from the later line; a line cut \
            short by a killed run is skipped with a note. The eval PPL panel switches to a log scale \
            when its values span more than 10×. The file is written atomically.
            """
    )

    @Argument(help: "Work directory holding metrics.jsonl, or the metrics.jsonl file.")
    var workdir: String

    @Option(name: [.short, .customLong("output")], help: "SVG file to write (default: WORKDIR/curves.svg).")
    var output: String?

    @Option(help: "Weight of the exponential moving average for the smoothed loss, 0 to 0.999.")
    var smoothing = 0.9

    @Option(help: "Picture width in pixels.")
    var width = 900

    @Option(help: "Picture height in pixels.")
    var height = 700

    func validate() throws {
        guard (0...0.999).contains(smoothing) else { throw ValidationError("--smoothing must lie in 0...0.999, got \(smoothing)") }
        guard width >= 300, height >= 300 else { throw ValidationError("--width and --height must be at least 300 pixels") }
    }

    func run() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: workdir, isDirectory: &isDir) else {
            throw CLIError("\(workdir): no such work directory; pass the directory a training run wrote into")
        }
        let metrics = isDir.boolValue ? (workdir as NSString).appendingPathComponent("metrics.jsonl") : workdir
        if isDir.boolValue, !FileManager.default.fileExists(atPath: metrics) {
            throw CLIError("\(workdir): no metrics.jsonl in this directory; is it a training work directory? "
                + "(training writes metrics.jsonl there as it runs)")
        }
        let log: MetricsLog
        do { log = try MetricsLog(contentsOf: metrics) } catch { throw CLIError(error) }
        for note in log.notes { warn("note: " + note) }
        guard !log.isEmpty else {
            throw CLIError("\(metrics): no usable lines: each line should be a JSON object with an integer 'iter' and "
                + "'loss'/'lr' (training) or 'eval_ppl' (evaluation)")
        }
        let directory = isDir.boolValue ? workdir : (workdir as NSString).deletingLastPathComponent
        let destination = output ?? ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent("curves.svg")
        // The run's folder name ("." and relative paths resolved against the working directory).
        let run = URL(fileURLWithPath: isDir.boolValue ? workdir : (directory.isEmpty ? "." : directory)).standardized.lastPathComponent
        let title = "SentenceVAE training: " + run
        let svg = CurvePlot.svg(for: log, title: title, width: width, height: height, smoothing: smoothing)
        do { try AtomicFile.write(Array(svg.utf8), to: destination) } catch { throw CLIError(error) }
        print("wrote \(destination): \(log.training.count) training points, \(log.evaluation.count) evaluations")
    }
}
