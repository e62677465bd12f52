import Foundation

/// Everything that can go wrong reading or writing checkpoints and configs. Each message says what
/// is wrong, where, and what to do about it; none of them is ever a crash.
public enum ModelIOError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, mapped, read or written.
    case io(path: String, reason: String)
    /// The bytes do not form a valid file of the expected format (truncated, corrupted, wrong kind).
    case malformed(path: String, reason: String)
    /// A valid file that uses a feature this reader does not implement.
    case unsupported(path: String, reason: String)
    /// A pickle asked for a Python global that is not on the allowlist; nothing was executed.
    case disallowedGlobal(path: String, module: String, name: String)
    /// A tensor was asked for that the file does not hold.
    case missingTensor(name: String)
    /// A tensor's dtype cannot be converted the way the caller asked.
    case dtypeMismatch(name: String, dtype: DType, wanted: String)
    /// A state dict does not match what a model expects.
    case stateDictMismatch(StateDictReport)
    /// A config file is wrong: a missing key, a wrong type, a bad include.
    case config(file: String, key: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .malformed(path, reason):
            return "\(path): not a valid file: \(reason)"
        case let .unsupported(path, reason):
            return "\(path): unsupported: \(reason)"
        case let .disallowedGlobal(path, module, name):
            return "\(path): the pickle asks for the Python global '\(module).\(name)', which is not on the allowlist "
                + "of types a checkpoint may contain; refusing to load it (nothing was executed). If the file is "
                + "trusted, load it in Python and re-save its tensors with safetensors."
        case let .missingTensor(name):
            return "no tensor named '\(name)'"
        case let .dtypeMismatch(name, dtype, wanted):
            return "tensor '\(name)' has dtype \(dtype.rawValue), which cannot be read as \(wanted)"
        case let .stateDictMismatch(report):
            return "the state dict does not match the model:\n" + report.description
        case let .config(file, key, reason):
            if file.isEmpty { return reason }
            return key.isEmpty ? "\(file): \(reason)" : "\(file): key '\(key)': \(reason)"
        }
    }
}
