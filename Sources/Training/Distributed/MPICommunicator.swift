import Foundation

/// The ranks of an `mpirun`/`srun` job, over `MPI_COMM_WORLD`. MPI is called from the main
/// thread only (`MPI_THREAD_FUNNELED`); kernels keep their own threads.
public final class MPICommunicator: Communicator {
    let mpi: MPILibrary
    public let rank: Int
    public let size: Int
    /// The library that was loaded, for the start-up line.
    public var libraryPath: String { mpi.path }

    /// Largest element count per `MPI_Allreduce` call (MPI counts are C ints).
    static let chunk = 1 << 24

    /// True when this process was started by an MPI launcher: Open MPI's `mpirun`, a PMIx or PMI
    /// launcher (`srun --mpi=pmix`, Hydra), so `MPI_Init` will find its peers.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }

    /// Ranks on this machine, as the launcher says (for choosing kernel threads), or nil if unknown.
    public static var localRanks: Int? {
        let env = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"] {
            if let v = env[key].flatMap({ Int($0.prefix { $0.isNumber }) }), v > 0 { return v }
        }
        return nil
    }

    /// Loads MPI, initialises it and joins `MPI_COMM_WORLD`. Checks that the launcher and MPI
    /// agree on the job's size, so `srun` without an MPI plugin cannot start N unrelated runs.
    public init() throws {
        mpi = try MPILibrary()
        var provided: Int32 = 0
        try mpi.check(mpi.initThread(nil, nil, 1 /* MPI_THREAD_FUNNELED */, &provided), "MPI_Init_thread")
        var r: Int32 = 0, s: Int32 = 0
        try mpi.check(mpi.commRank(mpi.commWorld, &r), "MPI_Comm_rank")
        try mpi.check(mpi.commSize(mpi.commWorld, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
        let env = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS"] {
            if let expected = env[key].flatMap(Int.init), expected > 1, expected != size {
                throw DistributedError("\(key) is \(expected) but MPI sees \(size) rank(s); under Slurm launch with srun --mpi=pmix (or mpirun inside the allocation)")
            }
        }
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard size > 1, let base = buffer.baseAddress else { return }
        var start = 0
        while start < buffer.count {
            let n = Swift.min(Self.chunk, buffer.count - start)
            try mpi.check(mpi.allReduce(mpi.inPlace, base + start, Int32(n), mpi.float, mpi.sum, mpi.commWorld), "MPI_Allreduce")
            start += n
        }
    }

    public func allReduce(_ values: [Double], _ operation: ReduceOperation) throws -> [Double] {
        guard size > 1, !values.isEmpty else { return values }
        var out = values
        let op = switch operation { case .sum: mpi.sum; case .min: mpi.min; case .max: mpi.max }
        try values.withUnsafeBufferPointer { input in
            try out.withUnsafeMutableBufferPointer { output in
                try mpi.check(mpi.allReduce(input.baseAddress, output.baseAddress, Int32(values.count), mpi.double, op, mpi.commWorld),
                              "MPI_Allreduce")
            }
        }
        return out
    }

    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        _ = mpi.abort(mpi.commWorld, code)
        exit(code)
    }

    /// Leaves MPI cleanly at the end of a successful run.
    public func finalize() {
        _ = mpi.finalize()
    }
}
