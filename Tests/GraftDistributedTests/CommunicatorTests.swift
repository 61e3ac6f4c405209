import Foundation
import GraftDistributed
import XCTest

/// Without a launcher the world is one process and every collective is the identity.
final class SoloWorldTests: XCTestCase {
    func testWorldWithoutLauncherIsOneProcess() throws {
        XCTAssertFalse(Launch.isLaunchedByMPI)
        let world = Communicator.world
        XCTAssertEqual(world.rank, 0)
        XCTAssertEqual(world.size, 1)
        XCTAssertTrue(world.isRoot)
        XCTAssertFalse(world.isDistributed)
        try world.barrier()
        XCTAssertEqual(try world.allreduce([1, 2.5, -3] as [Float]), [1, 2.5, -3])
        XCTAssertEqual(try world.allreduce([4, 5] as [Double]), [4, 5])
        XCTAssertEqual(try world.broadcast(bytes: [7, 8, 9]), [7, 8, 9])
        XCTAssertEqual(try world.gatherv([1, 2]), [[1, 2]])
        XCTAssertEqual(try world.allgather([3]), [[3]])
        var values: [Float] = [1, 2, 3]
        let pending = try values.withUnsafeMutableBufferPointer { try world.iallreduce($0) }
        XCTAssertTrue(try pending.test())
        try pending.wait()
        XCTAssertEqual(values, [1, 2, 3])
        try world.finish()   // a no-op for a world of one
    }
}

/// Two ranks under mpirun on loopback TCP.
final class TwoRankTests: XCTestCase {
    func testCollectivesOnTwoRanks() throws {
        let result = try MPIRun.run(["collectives"])
        XCTAssertFalse(result.timedOut, result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("rank 0 of 2: collectives ok"), result.output)
        XCTAssertTrue(result.output.contains("rank 1 of 2: collectives ok"), result.output)
    }

    func testRankThatExitsEarlyEndsTheJobWithAMessage() throws {
        let result = try MPIRun.run(["exit-early"], timeout: 30)
        XCTAssertFalse(result.timedOut, "job hung after a rank exited:\n\(result.output)")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("rank 1 of 2 is exiting before the job finished"), result.output)
        XCTAssertFalse(result.output.contains("finished an allreduce its peer never joined"), result.output)
    }

    func testRankThatThrowsEndsTheJobWithItsError() throws {
        let result = try MPIRun.run(["throws"], timeout: 30)
        XCTAssertFalse(result.timedOut, "job hung after a rank failed:\n\(result.output)")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("shard-1.bin"), result.output)
        XCTAssertTrue(result.output.contains("rank 1 of 2 is exiting before the job finished"), result.output)
    }

    func testKilledRankEndsTheJob() throws {
        let result = try MPIRun.run(["killed"], timeout: 30)
        XCTAssertFalse(result.timedOut, "job hung after a rank was killed:\n\(result.output)")
        XCTAssertNotEqual(result.status, 0)
        // mpirun names the rank and the signal.
        XCTAssertTrue(result.output.contains("rank 1") && result.output.contains("signal 9"), result.output)
    }
}
