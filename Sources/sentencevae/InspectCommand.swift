import ArgumentParser
import Foundation
import ModelIO

/// `sentencevae inspect FILE`: what a checkpoint holds, without loading any model.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors of a checkpoint: name, dtype, shape, parameter count and total.",
        discussion: """
            FILE is a .safetensors file, a PyTorch checkpoint written by torch.save (.pth, .pt, .bin; \
            e.g. the original SentenceVAE's mmengine checkpoints, whose 'state_dict' is listed), a sharded \
            *.index.json, or a Hugging Face model directory. Nothing in a pickle is executed.
            """
    )

    @Argument(help: "Checkpoint file or HF model directory.")
    var file: String

    @Flag(help: "Print JSON: {\"tensors\": [{\"name\", \"dtype\", \"shape\"}], \"total_parameters\"}.")
    var json = false

    func run() throws {
        let dict: StateDict
        do { dict = try loadStateDict(path: file) } catch let e as ModelIOError {
            throw CLIError(e)
        }
        if json {
            var out = "{\"tensors\": ["
            out += dict.all.map { t in
                "{\"name\": " + jsonString(t.name) + ", \"dtype\": \"\(t.dtype.rawValue)\", \"shape\": ["
                    + t.shape.map(String.init).joined(separator: ", ") + "]}"
            }.joined(separator: ", ")
            out += "], \"total_parameters\": \(dict.parameterCount)}"
            print(out)
            return
        }
        let width = min(max(dict.all.map(\.name.count).max() ?? 4, 4), 80)
        print("name".padding(toLength: width, withPad: " ", startingAt: 0) + "  dtype  shape" + String(repeating: " ", count: 18) + "parameters")
        for t in dict.all {
            let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
            print(t.name.padding(toLength: max(width, t.name.count), withPad: " ", startingAt: 0) + "  "
                + t.dtype.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0) + "  "
                + shape.padding(toLength: max(23, shape.count), withPad: " ", startingAt: 0) + " " + String(t.elementCount))
        }
        print("\(dict.count) tensors, \(dict.parameterCount) parameters")
        // For trainer checkpoints, say which part was listed and what else the file holds.
        if !file.hasSuffix(".safetensors"), let ck = try? TorchCheckpoint(path: file), ck.topLevelKeys.contains("state_dict") {
            let others = ck.topLevelKeys.filter { $0 != "state_dict" }
            print("(listed 'state_dict'; the checkpoint also holds: \(others.joined(separator: ", ")))")
            if let meta = ck.meta { print("meta: \(meta)") }
        }
    }

    private func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
