internal import CMPI
import Foundation

/// A group of processes that compute together: rank, size and the collectives
/// of data-parallel training and sharded extraction, over MPI.
///
/// `Communicator.world` is every process of the job. Without a launcher it is
/// a world of size 1 whose collectives are identities and MPI is never
/// initialised; under `mpirun`/`srun` the first use initialises MPI.
///
/// Ending: a rank calls `finish()` when its work is done (a barrier, then
/// MPI_Finalize). A rank that exits without it (an error, `exit(1)`) aborts
/// the whole job with a message naming itself, so the others never wait on a
/// peer that is gone; a rank killed by a signal is reported by mpirun, which
/// ends the rest.
public final class Communicator: @unchecked Sendable {  // unchecked: MPI_Comm is an opaque C handle; MPI calls are serialised by `lock`
    public let rank: Int
    public let size: Int
    /// nil for the single-process world.
    let comm: MPI_Comm?
    /// MPI requires calls from one thread at a time (MPI_THREAD_SERIALIZED).
    let lock = NSLock()

    public var isRoot: Bool { rank == 0 }
    /// True when there are other ranks to talk to.
    public var isDistributed: Bool { size > 1 }

    /// A world of one process: every collective returns its input.
    public static let solo = Communicator(rank: 0, size: 1, comm: nil)

    /// Every process of the job (size 1 without a launcher).
    public static let world: Communicator = Launch.isLaunchedByMPI ? initialiseMPI() : solo

    init(rank: Int, size: Int, comm: MPI_Comm?) {
        self.rank = rank; self.size = size; self.comm = comm
    }

    /// Ends this rank's part: waits for every rank, then shuts MPI down. Call it
    /// once, after the last collective; a no-op for a world of one.
    public func finish() throws {
        guard let comm, self === Communicator.world else { return }
        try lock.withLock { try check("MPI_Barrier", MPI_Barrier(comm)) }
        ExitGuard.finished = true
        MPI_Finalize()
    }

    /// Ends every rank of the job now, with `message` on this rank's stderr.
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("graft: rank \(rank) of \(size): \(message)\n".utf8))
        if let comm { MPI_Abort(comm, code) }
        exit(code)
    }

    private static func initialiseMPI() -> Communicator {
        var provided: Int32 = 0
        let rc = MPI_Init_thread(nil, nil, shim_thread_serialized(), &provided)
        guard rc == shim_success() else {
            FileHandle.standardError.write(Data("graft: MPI_Init_thread failed (\(rc)); run without mpirun or check Open MPI\n".utf8))
            exit(1)
        }
        let comm = shim_comm_world()
        // Errors come back as codes (thrown as DistributedError) instead of aborting inside MPI.
        MPI_Comm_set_errhandler(comm, shim_errors_return())
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(comm, &rank)
        MPI_Comm_size(comm, &size)
        ExitGuard.install(rank: Int(rank), size: Int(size))
        return Communicator(rank: Int(rank), size: Int(size), comm: comm)
    }

    /// Throws a `DistributedError` when an MPI call did not succeed.
    func check(_ call: String, _ rc: Int32) throws {
        guard rc != shim_success() else { return }
        var buffer = [CChar](repeating: 0, count: Int(shim_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(rc, &buffer, &length)
        throw DistributedError.mpi(call: call, code: rc, message: String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self),
                                       rank: rank)
    }
}

/// Aborts the job when an MPI rank exits before `finish()`: otherwise its
/// peers would block forever in their next collective (MPI_Finalize itself
/// waits for every rank in Open MPI).
enum ExitGuard {
    nonisolated(unsafe) static var finished = false
    nonisolated(unsafe) static var rank = 0
    nonisolated(unsafe) static var size = 1

    static func install(rank: Int, size: Int) {
        self.rank = rank; self.size = size
        atexit {
            guard !ExitGuard.finished else { return }
            let message = "graft: rank \(ExitGuard.rank) of \(ExitGuard.size) is exiting before the job finished; ending all ranks\n"
            FileHandle.standardError.write(Data(message.utf8))
            MPI_Abort(shim_comm_world(), 1)
        }
    }
}
