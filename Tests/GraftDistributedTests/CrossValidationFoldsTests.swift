import Foundation
import XCTest

/// `graft fit`'s choice of C under `mpirun -np 2`: the folds are spread over the ranks and every
/// rank ends with the heads one process fits (same fold scores, same C, same weights, bit for bit).
final class CrossValidationFoldsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-folds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testFoldsOverTwoRanksChooseTheSingleProcessHeads() throws {
        let single = directory.appendingPathComponent("single.txt"), spread = directory.appendingPathComponent("spread.txt")
        try MPIRun.runAlone(["folds", single.path])
        let result = try MPIRun.run(["folds", spread.path])
        XCTAssertFalse(result.timedOut, result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("rank 1 of 2: folds ok"), result.output)
        let alone = try String(contentsOf: single, encoding: .utf8), ranks = try String(contentsOf: spread, encoding: .utf8)
        XCTAssertTrue(alone.contains("logreg C") && alone.contains("svm C"), alone)
        XCTAssertEqual(alone, ranks)
    }
}
