import Foundation

/// How values are combined across ranks.
public enum ReduceOperation: Sendable {
    case sum, min, max
}

/// Collective operations over the ranks of a data-parallel job: what the trainer needs to keep
/// every rank's weights identical. A single process is the trivial case; `MPICommunicator` runs
/// under `mpirun`/`srun`. Every rank must make the same calls in the same order.
public protocol Communicator: AnyObject {
    /// This process's index, 0 ..< size. Rank 0 writes checkpoints and logs.
    var rank: Int { get }
    var size: Int { get }
    /// Element-wise sum over all ranks, in place.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Element-wise reduction over all ranks.
    func allReduce(_ values: [Double], _ operation: ReduceOperation) throws -> [Double]
    /// Ends the whole job (every rank) after printing `message`: a rank that cannot go on must not
    /// leave the others waiting in a collective.
    func abort(_ message: String, code: Int32) -> Never
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    /// Contiguous part `rank` of `count` items split over the ranks, sizes differing by at most
    /// one (empty when there are more ranks than items).
    public func shard(_ count: Int) -> Range<Int> {
        (rank * count / size)..<((rank + 1) * count / size)
    }

    /// Throws unless `value` is the same on every rank (weights, a resume point, a config).
    public func requireSame(_ value: Double, _ what: String) throws {
        let lowHigh = try allReduce([value, -value], .min)
        guard lowHigh[0] == -lowHigh[1] else {
            throw DistributedError("the ranks disagree on \(what) (from \(lowHigh[0]) to \(-lowHigh[1])); every rank must start from the same config, data and checkpoint")
        }
    }
}

/// A job of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduce(_ values: [Double], _ operation: ReduceOperation) throws -> [Double] { values }
    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}

public struct DistributedError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
