import Foundation

/// Makes the batches of the next few steps on a background thread while the trainer works on the
/// current one (PyTorch's DataLoader with one worker and `prefetch_factor = depth`).
///
/// Steps are made in order from `startStep`, at most `depth` ahead of the consumer; `next()` hands
/// them out in the same order. An error thrown by `make` is handed to the consumer by the `next()`
/// call of the step it belongs to; later steps are still made. Waiting is on a condition variable,
/// never a spin. `stop()` (or dropping the loader) waits for a `make` in progress to return, then
/// ends the thread.
public final class PrefetchLoader<Batch>: @unchecked Sendable {
    private let state: State

    /// - Parameters:
    ///   - startStep: the first step `next()` returns (the resume point).
    ///   - depth: how many steps may be made ahead of the consumer (≥ 1).
    ///   - make: builds the batch of a step; it runs on the loader's thread only.
    public init(startStep: Int, depth: Int = 2, make: @escaping (Int) throws -> Batch) {
        precondition(depth >= 1, "a prefetch depth of \(depth) prefetches nothing; use 1 or more")
        state = State(startStep: startStep, depth: depth)
        let state = self.state
        let thread = Thread { state.produce(make) }
        thread.name = "PrefetchLoader"
        thread.stackSize = 8 << 20
        thread.start()
    }

    deinit { state.stop() }

    /// The step the next `next()` returns.
    public var nextStep: Int { state.withLock { state.consumed } }

    /// The batch of the next step, waiting for it when it is not made yet.
    /// - Throws: what `make` threw for this step, or `DataError.loaderStopped` after `stop()`.
    public func next() throws -> Batch {
        try state.take().get()
    }

    /// Ends the background thread; `next()` throws afterwards. Safe to call more than once.
    public func stop() { state.stop() }

    /// Everything the thread and the consumer share, guarded by `condition`. The thread holds
    /// this and not the loader, so dropping the loader stops it.
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        let depth: Int
        /// Next step to make, and next step to hand out.
        var produced: Int
        var consumed: Int
        var ready: [Int: Result<Batch, Error>] = [:]
        var stopped = false
        var finished = false

        init(startStep: Int, depth: Int) {
            self.depth = depth
            produced = startStep
            consumed = startStep
        }

        func withLock<T>(_ body: () -> T) -> T {
            condition.lock()
            defer { condition.unlock() }
            return body()
        }

        func produce(_ make: (Int) throws -> Batch) {
            while true {
                condition.lock()
                while !stopped && produced - consumed >= depth { condition.wait() }
                if stopped {
                    finished = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                let step = produced
                condition.unlock()

                let result = Result { try make(step) }

                condition.lock()
                if !stopped { ready[step] = result }
                produced += 1
                condition.broadcast()
                condition.unlock()
            }
        }

        func take() -> Result<Batch, Error> {
            condition.lock()
            defer { condition.unlock() }
            while ready[consumed] == nil && !stopped { condition.wait() }
            guard !stopped, let result = ready.removeValue(forKey: consumed) else {
                return .failure(DataError.loaderStopped(step: consumed))
            }
            consumed += 1
            condition.broadcast()
            return result
        }

        func stop() {
            condition.lock()
            stopped = true
            ready.removeAll()
            condition.broadcast()
            while !finished { condition.wait() }
            condition.unlock()
        }
    }
}
