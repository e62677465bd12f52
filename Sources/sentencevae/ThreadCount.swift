import ArgumentParser
import Foundation

/// Checks a `--threads` value before anything runs: at least 1, at most four per core. More
/// threads than cores only slow the kernels (the pool's threads spin between products), and far
/// more stall the process: `llm --threads 100000` spent minutes creating threads and never
/// answered.
func checkThreads(_ threads: Int?) throws {
    guard let threads else { return }
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1 (got \(threads))") }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard threads <= 4 * cores else {
        throw ValidationError("--threads \(threads) is more than four per core (this machine has \(cores) cores); leave it out for one per core")
    }
}
