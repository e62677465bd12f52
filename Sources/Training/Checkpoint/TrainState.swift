import Foundation
import ModelIO
import NeuralNet
import TensorCore

/// Everything that exact resuming needs beyond the model file, as one safetensors file: the raw
/// (non-EMA) weights, AdamW's moments, and in the metadata the iteration, AdamW's step counts, the
/// EMA's update count, the best evaluation so far and the model's signature. The data position and
/// every dropout mask are functions of the iteration and the seed, so no RNG state is needed.
public struct TrainState {
    public var iteration: Int
    public var seed: Int
    public var kind: String
    /// Names and shapes of the model's parameters: a work directory of another model is refused.
    public var signature: String
    public var adamSteps: [Int]
    public var emaUpdates: Int
    public var bestEvalPPL: Double?
    public var bestIteration: Int?

    static func tensorData(_ name: String, _ t: Tensor) throws -> TensorData {
        let bytes = Array(UnsafeRawBufferPointer(start: t.data, count: t.count * 4))
        return try TensorData(name: name, dtype: .f32, shape: t.shape, bytes: bytes)
    }

    /// The signature of a parameter list: one `name:shape` line each.
    public static func signature(_ parameters: [(name: String, tensor: Tensor)]) -> String {
        parameters.map { "\($0.name):\($0.tensor.shape.map(String.init).joined(separator: "x"))" }.joined(separator: ";")
    }

    /// Writes the state next to its model file.
    public func write(to path: String, parameters: [(name: String, tensor: Tensor)], optimizer: AdamW) throws {
        var tensors: [TensorData] = []
        for (name, p) in parameters { tensors.append(try Self.tensorData("param." + name, p)) }
        for (i, (name, _)) in optimizer.parameters.enumerated() {
            tensors.append(try Self.tensorData("exp_avg." + name, optimizer.exp[i]))
            tensors.append(try Self.tensorData("exp_avg_sq." + name, optimizer.expSquared[i]))
        }
        var meta: [String: Any] = [
            "iteration": iteration, "seed": seed, "kind": kind, "signature": signature,
            "adam_steps": adamSteps, "ema_updates": emaUpdates, "format": "swift-sentencevae train state 1",
        ]
        if let bestEvalPPL, let bestIteration { meta["best_eval_ppl"] = bestEvalPPL; meta["best_iteration"] = bestIteration }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys]), as: UTF8.self)
        try SafetensorsWriter.write(tensors, metadata: ["train_state": json], to: path)
    }

    /// Reads a state file's metadata, and fills `parameters` and `optimizer` from its tensors.
    public static func read(from path: String, parameters: [(name: String, tensor: Tensor)], optimizer: AdamW) throws -> TrainState {
        let file = try SafetensorsFile(path: path)
        guard let json = file.metadata["train_state"], let meta = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let iteration = meta["iteration"] as? Int, let seed = meta["seed"] as? Int, let kind = meta["kind"] as? String,
              let signature = meta["signature"] as? String, let adamSteps = meta["adam_steps"] as? [Int],
              let emaUpdates = meta["ema_updates"] as? Int else {
            throw ModelIOError.malformed(path: path, reason: "not a swift-sentencevae training state (no train_state metadata)")
        }
        var state = TrainState(iteration: iteration, seed: seed, kind: kind, signature: signature, adamSteps: adamSteps,
                               emaUpdates: emaUpdates, bestEvalPPL: meta["best_eval_ppl"] as? Double, bestIteration: meta["best_iteration"] as? Int)
        guard state.signature == Self.signature(parameters) else {
            throw ModelIOError.malformed(path: path, reason: "this checkpoint belongs to another model (\(kind), different parameters); use another --work-dir")
        }
        for (name, p) in parameters {
            try file.tensors.tensor("param." + name).copyFloats(into: UnsafeMutableBufferPointer(start: p.data, count: p.count))
        }
        var exp: [Tensor] = [], expSquared: [Tensor] = []
        for (name, p) in optimizer.parameters {
            let m = Tensor.zeros(p.shape), v = Tensor.zeros(p.shape)
            try file.tensors.tensor("exp_avg." + name).copyFloats(into: UnsafeMutableBufferPointer(start: m.data, count: m.count))
            try file.tensors.tensor("exp_avg_sq." + name).copyFloats(into: UnsafeMutableBufferPointer(start: v.data, count: v.count))
            exp.append(m); expSquared.append(v)
        }
        try optimizer.restore(exp: exp, expSquared: expSquared, steps: adamSteps)
        state.adamSteps = adamSteps
        return state
    }
}
