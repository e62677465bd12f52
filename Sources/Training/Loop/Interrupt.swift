import Foundation

/// Ctrl-C while training: the first one asks the trainer to stop after the current iteration and
/// write a checkpoint; a second one exits at once (the newest complete checkpoint stays loadable).
public enum Interrupt {
    nonisolated(unsafe) static var requested = false

    public static var isRequested: Bool { requested }

    public static func install() {
        signal(SIGINT) { _ in
            if Interrupt.requested { _exit(130) }
            Interrupt.requested = true
        }
        signal(SIGTERM) { _ in
            if Interrupt.requested { _exit(143) }
            Interrupt.requested = true
        }
    }
}
