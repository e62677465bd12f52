/// How a tensor was made: its inputs and the function that turns the gradient of the output into
/// gradients of the inputs (one per input, `nil` where an input needs none).
final class GradFn {
    let op: String
    let inputs: [Tensor]
    let backward: (Tensor) throws -> [Tensor?]

    init(op: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}

extension Tensor {
    /// Attaches autograd history to `out` when recording is on and some input requires a gradient.
    /// Ops call this last; under `withNoGrad` it returns at once and the closure is never kept.
    static func record(_ out: Tensor, op: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return out }
        out.requiresGrad = true
        out.gradFn = GradFn(op: op, inputs: inputs, backward: backward)
        return out
    }
}
