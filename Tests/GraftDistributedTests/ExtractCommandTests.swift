import Foundation
import XCTest

/// `mpirun -np 2 graft extract` as a user runs it: EfficientNet-Lite0 on
/// Fashion-MNIST, two shards, one per rank; the store equals `graft extract`
/// run alone, and only rank 0 prints.
final class ExtractCommandTests: XCTestCase {
    func testGraftExtractUnderMPIRunWritesTheSingleProcessStore() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-mpi-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let graft = MPIRun.productsDirectory.appendingPathComponent("graft")
        let single = directory.appendingPathComponent("single"), sharded = directory.appendingPathComponent("sharded")
        func arguments(_ out: URL) -> [String] {
            ["extract", "--model", "efficientnet-lite0", "--data", "fashion-mnist", "--limit", "32", "--batch", "8",
             "--shard-size", "16", "--out", out.path, "--quiet"]
        }
        try MPIRun.runAlone(executable: graft, arguments(single))

        let result = try MPIRun.run(arguments(sharded), executable: graft, timeout: 50)
        XCTAssertFalse(result.timedOut, result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output.components(separatedBy: "32 examples x").count - 1, 1, "rank 0 alone prints:\n\(result.output)")
        try assertSameStore(single, sharded, shards: 2)
    }
}
