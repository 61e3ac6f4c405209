import Foundation
import XCTest

/// `mpirun -np 2` extraction writes the store a single process writes, and
/// resumes after a rank is killed.
final class ShardedExtractionTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-sharded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testTwoRanksWriteTheSingleProcessStore() throws {
        let single = directory.appendingPathComponent("single"), sharded = directory.appendingPathComponent("sharded")
        try MPIRun.runAlone(["extract", single.path])
        let result = try MPIRun.run(["extract", sharded.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("rank 1 of 2: extract ok, 5 shards"), result.output)
        try assertSameStore(single, sharded, shards: 5)
    }

    func testKilledRankResumesToTheSameStore() throws {
        let single = directory.appendingPathComponent("single"), sharded = directory.appendingPathComponent("sharded")
        try MPIRun.runAlone(["extract", single.path])
        // Rank 1 finishes shard 1, then dies inside shard 3.
        let killed = try MPIRun.run(["extract", sharded.path, "--kill-rank1-at-shard", "3"], timeout: 30)
        XCTAssertFalse(killed.timedOut, killed.output)
        XCTAssertNotEqual(killed.status, 0, killed.output)
        let manifest = try String(contentsOf: sharded.appendingPathComponent("manifest.json"), encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"complete\" : false"), manifest)
        let left = try FileManager.default.contentsOfDirectory(atPath: sharded.path)
        XCTAssertTrue(left.contains("shard-00001.done.json"), "\(left)")
        XCTAssertFalse(left.contains("shard-00003.safetensors"), "\(left)")
        let shard1 = sharded.appendingPathComponent("shard-00001.safetensors")
        let written = try FileManager.default.attributesOfItem(atPath: shard1.path)[.modificationDate] as? Date

        let rerun = try MPIRun.run(["extract", sharded.path])
        XCTAssertEqual(rerun.status, 0, rerun.output)
        try assertSameStore(single, sharded, shards: 5)
        // The finished shard was kept, not redone.
        XCTAssertNotNil(written)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: shard1.path)[.modificationDate] as? Date, written)
    }
}
