import Foundation

/// The few MPI functions the trainer calls, found in Open MPI's `libmpi` at run time with
/// `dlopen`. Loading it ourselves (rather than linking) keeps MPI optional: the package builds and
/// runs without it, and one binary serves both single-process and `mpirun` launches.
///
/// Handles follow Open MPI's ABI, where `MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`… are the
/// addresses of exported globals (`ompi_mpi_comm_world`, …) and `MPI_IN_PLACE` is `(void *) 1`.
/// MPICH encodes handles as integers instead; it is refused with a clear message.
final class MPILibrary {
    typealias Handle = OpaquePointer?
    typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?, Int32,
                                           UnsafeMutablePointer<Int32>?) -> Int32
    typealias CommQuery = @convention(c) (Handle, UnsafeMutablePointer<Int32>?) -> Int32
    typealias AllReduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    typealias Abort = @convention(c) (Handle, Int32) -> Int32
    typealias Finalize = @convention(c) () -> Int32
    typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32

    let path: String
    let initThread: InitThread
    let commRank: CommQuery
    let commSize: CommQuery
    let allReduce: AllReduce
    let abort: Abort
    let finalize: Finalize
    let errorString: ErrorString
    let commWorld: Handle
    let float: Handle
    let double: Handle
    let sum: Handle
    let min: Handle
    let max: Handle
    /// Open MPI's `MPI_IN_PLACE`.
    let inPlace = UnsafeRawPointer(bitPattern: 1)

    /// Library names tried in order after `SENTENCEVAE_LIBMPI` (a path, if set).
    static let candidates = ["libmpi.so.40", "libmpi.so", "libmpi.40.dylib", "libmpi.dylib"]

    /// Opens `libmpi` (globally, so Open MPI's plugins can see its symbols) and binds the functions.
    init() throws {
        let env = ProcessInfo.processInfo.environment["SENTENCEVAE_LIBMPI"]
        let names = (env.map { [$0] } ?? []) + Self.candidates
        var opened: (UnsafeMutableRawPointer, String)?
        var failures: [String] = []
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) { opened = (handle, name); break }
            failures.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let (library, path) = opened else {
            throw DistributedError("launched by an MPI launcher, but no MPI library could be loaded (tried \(names.joined(separator: ", "))). "
                + "Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev; macOS: brew install open-mpi) "
                + "or point SENTENCEVAE_LIBMPI at libmpi. Details: \(failures.last ?? "")")
        }
        self.path = path
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let p = dlsym(library, name) else {
                if name.hasPrefix("ompi_") {
                    throw DistributedError("\(path) is not Open MPI (no \(name)); only Open MPI's ABI is supported (MPICH encodes its handles differently)")
                }
                throw DistributedError("\(path) lacks \(name); it does not look like an MPI library")
            }
            return p
        }
        func function<F>(_ name: String, _ type: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: type) }
        func handle(_ name: String) throws -> Handle { OpaquePointer(try symbol(name)) }
        initThread = try function("MPI_Init_thread", InitThread.self)
        commRank = try function("MPI_Comm_rank", CommQuery.self)
        commSize = try function("MPI_Comm_size", CommQuery.self)
        allReduce = try function("MPI_Allreduce", AllReduce.self)
        abort = try function("MPI_Abort", Abort.self)
        finalize = try function("MPI_Finalize", Finalize.self)
        errorString = try function("MPI_Error_string", ErrorString.self)
        commWorld = try handle("ompi_mpi_comm_world")
        float = try handle("ompi_mpi_float")
        double = try handle("ompi_mpi_double")
        sum = try handle("ompi_mpi_op_sum")
        min = try handle("ompi_mpi_op_min")
        max = try handle("ompi_mpi_op_max")
    }

    /// Throws with MPI's own words unless `code` is `MPI_SUCCESS`.
    func check(_ code: Int32, _ call: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        var length: Int32 = 0
        _ = errorString(code, &text, &length)
        throw DistributedError("\(call) failed: \(String(cString: text)) (MPI error \(code))")
    }
}
