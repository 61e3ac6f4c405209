import Foundation
import GraftDistributed

/// Collectives checked against values every rank can compute on its own.
enum Scenarios {
    static func collectives(_ world: Communicator) throws {
        let r = Float(world.rank), n = world.size
        expect(n == 2, "expected 2 ranks, got \(n)")

        // allreduce: sum of (rank + 1) * i over ranks.
        let sum = try world.allreduce((0..<1000).map { Float($0) * (r + 1) })
        let factor = Float(n * (n + 1) / 2)
        expect(sum.enumerated().allSatisfy { $0.element == Float($0.offset) * factor }, "allreduce sum \(sum.prefix(4))")
        let doubles = try world.allreduce([Double(world.rank), 1])
        expect(doubles == [Double(n * (n - 1) / 2), Double(n)], "allreduce doubles \(doubles)")

        // broadcast of floats and of bytes of a length only the root knows.
        var values = (0..<17).map { Float($0) + (world.isRoot ? 0.5 : -100) }
        try values.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 0) }
        expect(values == (0..<17).map { Float($0) + 0.5 }, "broadcast floats \(values.prefix(4))")
        let message = try world.broadcast(bytes: world.isRoot ? Array("from rank 0".utf8) : [], root: 0)
        expect(String(decoding: message, as: UTF8.self) == "from rank 0", "broadcast bytes")
        let fromLast = try world.broadcast(bytes: Array("rank \(world.rank)".utf8), root: n - 1)
        expect(String(decoding: fromLast, as: UTF8.self) == "rank \(n - 1)", "broadcast from the last rank")

        // gatherv and allgather of different lengths per rank (rank 0 sends none).
        let mine = [UInt8](repeating: UInt8(world.rank), count: world.rank * 3)
        let gathered = try world.gatherv(mine, root: 0)
        if world.isRoot {
            expect(gathered == (0..<n).map { [UInt8](repeating: UInt8($0), count: $0 * 3) }, "gatherv \(String(describing: gathered))")
        } else {
            expect(gathered == nil, "gatherv returns nil off the root")
        }
        let everyone = try world.allgather(Array("r\(world.rank)".utf8))
        expect(everyone.map { String(decoding: $0, as: UTF8.self) } == (0..<n).map { "r\($0)" }, "allgather")

        // iallreduce overlapped with local work: three reductions in flight at once.
        var buffers = (0..<3).map { k in [Float](repeating: r + Float(k), count: 1 << 18) }
        var pending: [PendingReduction] = []
        for k in 0..<3 {
            pending.append(try buffers[k].withUnsafeMutableBufferPointer { try world.iallreduce($0) })
        }
        var local: Float = 0
        for i in 0..<200_000 { local += Float(i % 7); if i % 20_000 == 0 { for p in pending { try p.test() } } }
        for p in pending { try p.wait() }
        for k in 0..<3 {
            let expected = Float(n * (n - 1) / 2) + Float(n * k)
            expect(buffers[k].allSatisfy { $0 == expected }, "iallreduce \(k): \(buffers[k][0]) != \(expected)")
        }
        expect(local > 0, "local work")
        try world.barrier()
        print("rank \(world.rank) of \(n): collectives ok")
    }

    /// Rank 1 leaves with an error before the collective rank 0 waits in.
    static func exitEarly(_ world: Communicator) throws {
        if world.rank == 1 { exit(3) }
        _ = try world.allreduce([Float](repeating: 1, count: 16))
        fail("rank 0 finished an allreduce its peer never joined")
    }

    /// Rank 1 is killed (as by the OOM killer) while rank 0 waits for it.
    static func killed(_ world: Communicator) throws {
        if world.rank == 1 { kill(getpid(), SIGKILL) }
        _ = try world.allreduce([Float](repeating: 1, count: 16))
        fail("rank 0 finished an allreduce its peer never joined")
    }

    /// Rank 1 throws (bad input on one shard) and leaves through `exit(1)`.
    static func throwsOnOneRank(_ world: Communicator) throws {
        if world.rank == 1 { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: "shard-1.bin"]) }
        try world.barrier()
        fail("rank 0 passed a barrier its peer never joined")
    }
}
