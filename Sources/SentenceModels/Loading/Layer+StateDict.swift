import ModelIO
import NeuralNet
import TensorCore

extension Layer {
    /// Parameter shapes by full name, for `StateDict.check(expected:)`.
    public func expectedShapes(prefix: String = "") -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: parameters(prefix: prefix).map { ($0.name, $0.tensor.shape) })
    }

    /// Checks `stateDict` against this layer first (a report listing every missing, unexpected
    /// and mis-shaped tensor, before anything is copied), then loads it.
    public func load(stateDict: StateDict, prefix: String = "", ignoring ignored: Set<String> = []) throws {
        var report = stateDict.check(expected: expectedShapes(prefix: prefix))
        report.unexpected.removeAll { ignored.contains($0) }
        guard report.isClean else { throw CheckpointMismatch(report: report) }
        // Straight from the file's bytes into the parameters: no second copy of the model in memory.
        for (name, parameter) in namedParameters {
            try stateDict.tensor(prefix + name).copyFloats(into: UnsafeMutableBufferPointer(start: parameter.data, count: parameter.count))
        }
    }
}

/// A checkpoint that does not fit the model the config describes.
public struct CheckpointMismatch: Error, CustomStringConvertible {
    public let report: StateDictReport
    public var description: String {
        "the checkpoint does not match the model described by the config (check the config's ref_model_dir, num_hidden_layers and learnable_add):\n\(report)"
    }
}
