/// Whether ops record autograd history. Inference runs under `withNoGrad`, where no op allocates a
/// graph node or captures its inputs, so the inference path pays nothing for autograd.
public enum GradMode {
    @TaskLocal static var enabled = true

    public static var isEnabled: Bool { enabled }
}

/// Runs `body` with autograd recording switched off (for this thread/task only).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(false, operation: body)
}
