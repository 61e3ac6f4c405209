import Foundation
import XCTest

/// The acceptance of data-parallel training: 2 ranks with B/2 items each
/// end with the parameters 1 process with batch B ends with (20 steps,
/// frozen batch norm, augmentation on, SGD with momentum, weight decay,
/// cosine schedule, gradient clipping), within 1e-5 relative.
final class DataParallelTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-dp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testTwoRanksWithHalfBatchesMatchOneProcess() throws {
        let single = directory.appendingPathComponent("single.bin")
        let initial = directory.appendingPathComponent("initial.bin")
        let parallel = directory.appendingPathComponent("parallel.bin")
        try MPIRun.runAlone(["data-parallel", single.path, "--steps", "20"])
        try MPIRun.runAlone(["data-parallel", initial.path, "--steps", "0"])
        // Rank 1 starts from other weights: the broadcast from rank 0 must fix that.
        let result = try MPIRun.run(["data-parallel", parallel.path, "--steps", "20", "--seed-offset-on-rank1"])
        XCTAssertFalse(result.timedOut, result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("rank 1 of 2: data-parallel ok"), result.output)

        let a = try floats(single), b = try floats(parallel), start = try floats(initial)
        XCTAssertEqual(a.count, b.count)
        var worst: Float = 0
        for (x, y) in zip(a, b) { worst = max(worst, abs(x - y) / max(abs(x), 1e-2)) }
        XCTAssertLessThanOrEqual(worst, 1e-5, "largest relative difference \(worst)")
        // And training moved the weights (the comparison is not of two untouched models).
        let moved = zip(a, start).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(moved, 1e-2)
    }

    func testBucketsStartedAfterBackwardGiveTheSameParameters() throws {
        let overlapped = directory.appendingPathComponent("overlapped.bin")
        let after = directory.appendingPathComponent("after.bin")
        for (path, extra) in [(overlapped, [String]()), (after, ["--no-overlap"])] {
            let result = try MPIRun.run(["data-parallel", path.path, "--steps", "6"] + extra)
            XCTAssertEqual(result.status, 0, result.output)
        }
        XCTAssertEqual(try floats(overlapped), try floats(after))
    }


    private func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
