internal import CMPI

/// A sum over all ranks in flight (MPI_Iallreduce): the buffer it was started
/// on must stay alive and untouched until `wait()` returns.
///
/// Open MPI advances a non-blocking collective only inside MPI calls, so a
/// caller overlapping it with computation calls `test()` now and then.
public final class PendingReduction: @unchecked Sendable {  // unchecked: owned by the training step that started it; `request` mutates only there
    let communicator: Communicator
    var request: MPI_Request?
    public private(set) var isComplete: Bool

    init(communicator: Communicator, request: MPI_Request?) {
        self.communicator = communicator; self.request = request; isComplete = request == nil
    }

    /// Advances the reduction; true once it has completed.
    @discardableResult
    public func test() throws -> Bool {
        guard !isComplete, request != nil else { return true }
        var flag: Int32 = 0
        try communicator.lock.withLock {
            try communicator.check("MPI_Test", MPI_Test(&request, &flag, shim_status_ignore()))
        }
        isComplete = flag != 0
        return isComplete
    }

    /// Blocks until the sum is in the buffer.
    public func wait() throws {
        guard !isComplete, request != nil else { return }
        try communicator.lock.withLock {
            try communicator.check("MPI_Wait", MPI_Wait(&request, shim_status_ignore()))
        }
        isComplete = true
    }
}

extension Communicator {
    /// Starts summing `buffer` over all ranks in place and returns at once.
    /// Every rank must start its reductions in the same order.
    public func iallreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingReduction {
        guard let comm, buffer.count > 0 else { return PendingReduction(communicator: self, request: nil) }
        let count = try int32(buffer.count, "MPI_Iallreduce")
        var request: MPI_Request? = shim_request_null()
        try lock.withLock {
            try check("MPI_Iallreduce", MPI_Iallreduce(shim_in_place(), buffer.baseAddress, count, shim_float(), shim_sum(), comm, &request))
        }
        return PendingReduction(communicator: self, request: request)
    }
}
