import CPUKernels
import Foundation
import Synchronization

/// A persistent pool of worker threads. Workers spin briefly after each job before they sleep, so
/// back-to-back kernel calls (one per layer during decoding) do not pay a thread wake-up each time,
/// which is what made `DispatchQueue.concurrentPerform` too slow for per-token gemv (DESIGN.md §5).
///
/// The caller thread takes part in every job. Tasks are handed out through one atomic ticket that
/// holds (generation, next index), so a worker that wakes late can never run a task of a finished job.
public final class ThreadPool: @unchecked Sendable {
    /// A task as a plain C function of (context, index): calling it allocates nothing, so kernels
    /// that dispatch once per layer per token stay allocation-free. The context is the caller's
    /// argument struct, valid until `run` returns.
    public typealias Task = @convention(c) (UnsafeMutableRawPointer?, Int) -> Void

    /// One dispatched job: `task(context, i)` (or `body(i)`) for `i` in `0..<count`. Workers take
    /// a copy under the lock, so a job never changes under them.
    private struct Job {
        var generation: UInt64 = 0
        var count = 0
        var context: UnsafeMutableRawPointer?
        var task: Task?
        var body: ((Int) -> Void)?

        func callAsFunction(_ i: Int) {
            if let task { task(context, i) } else { body?(i) }
        }
    }

    /// Total threads that run a job, the caller included.
    public let threadCount: Int

    private let ticket = Atomic<UInt64>(0)       // generation << 32 | next task index
    private let finished = Atomic<Int>(0)        // tasks completed in the current job
    private let published = Atomic<UInt64>(0)    // generation of the newest job (workers spin on it)
    private let busy = Atomic<Bool>(false)       // a job is in flight (nested calls run inline)
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)         // workers inside `workerLoop`
    private let condition = NSCondition()
    private var current = Job()                  // guarded by `condition`
    private var generation: UInt64 = 0

    /// Spin iterations before a worker sleeps (roughly 0.5 ms). Decoding leaves a gap of more than
    /// 50 µs between jobs about 2.4 times a token; with 40,000 spins (~50 µs) the worker slept and
    /// was woken at each (410 sleeps a second decoding OPT-125m q8, 39 with this limit), and decode
    /// ran 1.04–1.08× faster without them (`bench opt` A/B, Intel Xeon).
    private static let spinLimit = 400_000

    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        BLAS.useSingleThreadedOpenBLAS()
        for index in 1..<self.threadCount {
            // Workers hold the pool strongly; it goes away once they exit after `shutdown()`.
            // Named for top -H, perf and the tests' allocation counter; Foundation on Linux does not
            // pass Thread.name on to the system thread, so the worker names itself.
            let name = "sentencevae-wk\(index)"
            let thread = Thread {
                cpu_kernels_name_thread(name)
                self.workerLoop()
            }
            thread.name = name
            thread.stackSize = 1 << 20
            thread.start()
        }
        // A starting thread allocates (its name, Foundation's bookkeeping). Waiting here keeps that
        // out of whatever the caller does next, so decoding right after a pool is made (or resized)
        // stays allocation-free, and the pool is at full strength from its first job.
        waitForWorkers(count: self.threadCount - 1)
    }

    private func waitForWorkers(count: Int) {
        while running.load(ordering: .acquiring) != count { sched_yield() }
    }

    /// Runs `task(context, i)` for every `i` in `0..<count` across the pool and returns when all are
    /// done. Allocation-free. Called from inside a running job (or from a second thread while one
    /// runs), it runs inline.
    public func run(_ count: Int, context: UnsafeMutableRawPointer?, _ task: Task) {
        dispatch(Job(count: count, context: context, task: task))
    }

    /// Closure form of `run` for code off the hot path (the closure context is allocated).
    public func run(_ count: Int, _ body: @escaping (Int) -> Void) {
        dispatch(Job(count: count, body: body))
    }

    private func dispatch(_ job: Job) {
        let count = job.count
        guard count > 1, threadCount > 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for i in 0..<count { job(i) }
            return
        }
        generation &+= 1
        var job = job
        job.generation = generation
        finished.store(0, ordering: .relaxed)
        condition.lock()
        current = job
        ticket.store(generation << 32, ordering: .releasing)
        published.store(generation, ordering: .releasing)
        condition.broadcast()
        condition.unlock()

        drain(job)
        while finished.load(ordering: .acquiring) < count {}
        condition.lock()
        current.body = nil                       // drop the closure (and what it captured)
        condition.unlock()
        busy.store(false, ordering: .releasing)
    }

    /// Takes tasks of `job` until none are left.
    private func drain(_ job: Job) {
        var t = ticket.load(ordering: .acquiring)
        while t >> 32 == job.generation, Int(t & 0xFFFF_FFFF) < job.count {
            let (exchanged, original) = ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                job(Int(t & 0xFFFF_FFFF))
                finished.add(1, ordering: .releasing)
                t += 1
            } else {
                t = original
            }
        }
    }

    private func workerLoop() {
        running.add(1, ordering: .releasing)
        defer { running.subtract(1, ordering: .releasing) }
        var seen: UInt64 = 0
        while !stopping.load(ordering: .relaxed) {
            var spins = 0
            while published.load(ordering: .acquiring) == seen && spins < Self.spinLimit { spins += 1 }
            condition.lock()
            while current.generation == seen && !stopping.load(ordering: .relaxed) {
                condition.wait()
            }
            let job = current
            condition.unlock()
            seen = job.generation
            drain(job)
        }
    }

    /// Asks the workers to exit (used when the thread count changes).
    func shutdown() {
        condition.lock()
        stopping.store(true, ordering: .relaxed)
        condition.broadcast()
        condition.unlock()
        waitForWorkers(count: 0)
    }
}

/// The process-wide pool and its size. Default: one thread per core.
public enum Threads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pool = ThreadPool(threadCount: ProcessInfo.processInfo.activeProcessorCount)

    public static var shared: ThreadPool {
        lock.lock(); defer { lock.unlock() }
        return pool
    }

    /// Threads used by kernels, the calling thread included.
    public static var count: Int {
        get { shared.threadCount }
        set {
            lock.lock(); defer { lock.unlock() }
            guard newValue != pool.threadCount else { return }
            pool.shutdown()
            pool = ThreadPool(threadCount: max(1, newValue))
        }
    }
}

extension Threads {
    /// Runs `body` over `0..<count` split into one contiguous range per thread, or inline when
    /// there are fewer than `minimum` elements per thread (element-wise loops of optimizers).
    public static func forEachChunk(_ count: Int, minimum: Int = 1 << 15, _ body: @escaping (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let tasks = Swift.max(1, Swift.min(shared.threadCount, count / Swift.max(minimum, 1)))
        if tasks == 1 { return body(0..<count) }
        shared.run(tasks) { i in body((i * count / tasks)..<((i + 1) * count / tasks)) }
    }
}
