internal import CMPI

/// Blocking collectives. In a world of one each is the identity.
extension Communicator {
    /// Waits until every rank has called it.
    public func barrier() throws {
        guard let comm else { return }
        try lock.withLock { try check("MPI_Barrier", MPI_Barrier(comm)) }
    }

    /// Replaces `buffer` on every rank with rank `root`'s values (lengths must match).
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int = 0) throws {
        guard let comm, buffer.count > 0 else { return }
        let count = try int32(buffer.count, "MPI_Bcast")
        try lock.withLock { try check("MPI_Bcast", MPI_Bcast(buffer.baseAddress, count, shim_float(), Int32(root), comm)) }
    }

    /// Rank `root`'s bytes on every rank (other ranks' `bytes` are ignored; any length).
    public func broadcast(bytes: [UInt8], root: Int = 0) throws -> [UInt8] {
        guard let comm else { return bytes }
        var length = Int64(bytes.count)
        try lock.withLock { try check("MPI_Bcast", MPI_Bcast(&length, 1, shim_int64(), Int32(root), comm)) }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length))
        let count = try int32(out.count, "MPI_Bcast")
        if count > 0 {
            try lock.withLock { try check("MPI_Bcast", MPI_Bcast(&out, count, shim_byte(), Int32(root), comm)) }
        }
        return out
    }

    /// Sums `buffer` element-wise over all ranks, in place on every rank.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let comm, buffer.count > 0 else { return }
        let count = try int32(buffer.count, "MPI_Allreduce")
        try lock.withLock {
            try check("MPI_Allreduce", MPI_Allreduce(shim_in_place(), buffer.baseAddress, count, shim_float(), shim_sum(), comm))
        }
    }

    /// The element-wise sum of `values` over all ranks.
    public func allreduce(_ values: [Float]) throws -> [Float] {
        var out = values
        try out.withUnsafeMutableBufferPointer { try allreduce($0) }
        return out
    }

    /// The element-wise sum of `values` over all ranks, in double precision (counts, losses).
    public func allreduce(_ values: [Double]) throws -> [Double] {
        guard let comm, !values.isEmpty else { return values }
        var out = values
        let count = try int32(out.count, "MPI_Allreduce")
        try lock.withLock {
            try check("MPI_Allreduce", MPI_Allreduce(shim_in_place(), &out, count, shim_double(), shim_sum(), comm))
        }
        return out
    }

    /// Every rank's `bytes`, in rank order, on rank `root`; nil on the other ranks.
    public func gatherv(_ bytes: [UInt8], root: Int = 0) throws -> [[UInt8]]? {
        guard let comm else { return [bytes] }
        var length = try int32(bytes.count, "MPI_Gatherv")
        var lengths = [Int32](repeating: 0, count: rank == root ? size : 0)
        try lock.withLock { try check("MPI_Gather", MPI_Gather(&length, 1, shim_int(), &lengths, 1, shim_int(), Int32(root), comm)) }
        let (offsets, total) = Self.offsets(lengths)
        var all = [UInt8](repeating: 0, count: rank == root ? total : 0)
        var send = bytes
        try lock.withLock {
            try check("MPI_Gatherv", MPI_Gatherv(&send, length, shim_byte(), &all, lengths, offsets, shim_byte(), Int32(root), comm))
        }
        guard rank == root else { return nil }
        return Self.split(all, lengths, offsets)
    }

    /// Every rank's `bytes`, in rank order, on every rank.
    public func allgather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        guard let comm else { return [bytes] }
        var length = try int32(bytes.count, "MPI_Allgatherv")
        var lengths = [Int32](repeating: 0, count: size)
        try lock.withLock { try check("MPI_Allgather", MPI_Allgather(&length, 1, shim_int(), &lengths, 1, shim_int(), comm)) }
        let (offsets, total) = Self.offsets(lengths)
        var all = [UInt8](repeating: 0, count: total)
        var send = bytes
        try lock.withLock {
            try check("MPI_Allgatherv", MPI_Allgatherv(&send, length, shim_byte(), &all, lengths, offsets, shim_byte(), comm))
        }
        return Self.split(all, lengths, offsets)
    }

    func int32(_ count: Int, _ call: String) throws -> Int32 {
        guard count <= Int(Int32.max) else { throw DistributedError.tooLarge(call: call, count: count) }
        return Int32(count)
    }

    private static func offsets(_ lengths: [Int32]) -> ([Int32], Int) {
        var offsets: [Int32] = [], total = 0
        for l in lengths { offsets.append(Int32(total)); total += Int(l) }
        return (offsets, total)
    }

    private static func split(_ all: [UInt8], _ lengths: [Int32], _ offsets: [Int32]) -> [[UInt8]] {
        zip(offsets, lengths).map { Array(all[Int($0)..<Int($0) + Int($1)]) }
    }
}
