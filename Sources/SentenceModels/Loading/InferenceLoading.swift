import ModelIO
import NeuralNet
import TensorCore

extension ModelFactory {
    /// Loads `dict` into `layer` strictly (every parameter present with its shape; the list of
    /// problems first, before anything is copied), keeping the matrices `StoredMatrices` names in
    /// `format`: those go into the returned `InferenceWeights` — read in place when the file holds
    /// them in that format, else converted row by row — and their fp32 tensors stay empty. With
    /// `.f32` everything lands in the model's tensors (q8 and bf16 files are widened on the way).
    static func loadForInference(_ layer: Layer, _ dict: StateDict, format: WeightFormat, source: String) throws -> InferenceWeights {
        let parameters = layer.parameters()
        let matrices = Set(parameters.filter { StoredMatrices.isMatrix($0.name, shape: $0.tensor.shape) }.map(\.name))
        let report = checkAllowingScales(dict, expected: layer.expectedShapes(), matrices: matrices)
        guard report.isClean else { throw ModelFactoryError("\(source): \(CheckpointMismatch(report: report))") }

        let weights = InferenceWeights(format: format)
        do {
            for (name, parameter) in parameters {
                let target = matrices.contains(name) ? StoredMatrices.format(for: parameter.shape, requested: format) : .f32
                if target != .f32 {
                    let (matrix, inPlace) = try StoredMatrices.matrix(name, in: dict, format: target)
                    weights.set(matrix, for: parameter)
                    if inPlace { weights.mappedCount += 1 }
                } else {
                    try readWidened(name, in: dict, into: parameter, isMatrix: matrices.contains(name))
                }
            }
        } catch {
            throw ModelFactoryError("\(source): \(error)")
        }
        return weights
    }

    /// `dict` checked against `expected`, the `.scales` companions of q8 `matrices` not counted as unexpected.
    static func checkAllowingScales(_ dict: StateDict, expected: [String: [Int]], matrices: Set<String>) -> StateDictReport {
        var report = dict.check(expected: expected)
        report.unexpected.removeAll { name in
            name.hasSuffix(StoredMatrices.scalesSuffix) && matrices.contains(String(name.dropLast(StoredMatrices.scalesSuffix.count)))
        }
        return report
    }

    /// Tensor `name` of `dict` as fp32 into `parameter`: a q8 matrix decoded with its scales, bf16/fp16 widened.
    static func readWidened(_ name: String, in dict: StateDict, into parameter: Tensor, isMatrix: Bool) throws {
        let tensor = try dict.tensor(name)
        if isMatrix, tensor.dtype == .i8 {
            try StoredMatrices.readFloats(name, in: dict, into: parameter.data)
        } else {
            try tensor.copyFloats(into: UnsafeMutableBufferPointer(start: parameter.data, count: parameter.count))
        }
    }

    /// Compact copies of the matrices of a model already in memory (random weights for a
    /// benchmark, a model trained in this process). `.f32` gives the model's own tensors.
    public static func inferenceWeights(converting layer: Layer, to format: WeightFormat) throws -> InferenceWeights {
        let weights = InferenceWeights(format: format)
        guard format != .f32 else { return weights }
        for (name, parameter) in layer.parameters() where StoredMatrices.isMatrix(name, shape: parameter.shape) {
            let target = StoredMatrices.format(for: parameter.shape, requested: format)
            guard target != .f32 else { continue }
            do { weights.set(try WeightMatrix(parameter).converted(to: target), for: parameter) } catch {
                throw ModelFactoryError("\(name): \(error)")
            }
        }
        return weights
    }
}
