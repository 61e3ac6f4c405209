import Foundation
import GraftWeights
import XCTest

/// The acceptance of data-parallel fine-tuning as a user runs it: `mpirun -np 2 graft finetune`
/// with batch B (each rank B/2) ends with the parameters of `graft finetune` alone with batch B,
/// after 20 steps (EfficientNet-Lite0, last block + head, frozen batch norm, augmentation and
/// the classifier's dropout on, cosine schedule), within 1e-5 relative; only rank 0 writes.
final class FinetuneCommandTests: XCTestCase {
    func testGraftFinetuneOnTwoRanksMatchesOneProcess() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-mpi-ft-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let graft = MPIRun.productsDirectory.appendingPathComponent("graft")
        let single = directory.appendingPathComponent("single"), parallel = directory.appendingPathComponent("parallel")
        // 10 classes x 8 = 80 training items, batch 16: 5 steps an epoch, 4 epochs = 20 steps.
        func arguments(_ out: URL) -> [String] {
            ["finetune", "--model", "efficientnet-lite0", "--data", "fashion-mnist", "--per-class", "10",
             "--validation-per-class", "2", "--test-count", "0", "--unfreeze", "1", "--epochs", "4", "--batch", "16",
             "--no-probe", "--patience", "0", "--out", out.path, "--quiet"]
        }
        try MPIRun.runAlone(executable: graft, arguments(single))

        let result = try MPIRun.run(arguments(parallel), executable: graft, timeout: 120)
        XCTAssertFalse(result.timedOut, result.output)
        XCTAssertEqual(result.status, 0, result.output)

        let a = try WeightFile.open(single.appendingPathComponent("model.safetensors"))
        let b = try WeightFile.open(parallel.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(a.names, b.names)
        let start = try WeightFile.open(try XCTUnwrap(Self.pretrainedLite0()))
        var worst: Float = 0, moved: Float = 0
        for name in a.names {
            let x = try XCTUnwrap(a[name]).floats(), y = try XCTUnwrap(b[name]).floats()
            XCTAssertEqual(x.count, y.count, name)
            for (u, v) in zip(x, y) { worst = max(worst, abs(u - v) / max(abs(u), 1e-2)) }
            // A pretrained trunk tensor moved (so the comparison is not of two untouched trunks; the
            // new head, a different shape, is not counted).
            if let key = start.names.first(where: { name == $0 || name.hasSuffix("." + $0) }),
               let original = try start[key]?.floats(), original.count == x.count {
                moved = max(moved, zip(x, original).map { abs($0 - $1) }.max() ?? 0)
            }
        }
        XCTAssertLessThanOrEqual(worst, 1e-5, "largest relative difference \(worst)")
        XCTAssertGreaterThan(moved, 1e-5, "no pretrained tensor moved: the last block did not train")
    }

    /// The packaged EfficientNet-Lite0 weights, to see that training moved the unfrozen block.
    static func pretrainedLite0() -> URL? {
        let home = ProcessInfo.processInfo.environment["GRAFT_HOME"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft").path
        let root = URL(fileURLWithPath: home)
        guard let found = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap({ $0 as? URL })
            .first(where: { $0.path.contains("lite0") && ["pth", "safetensors"].contains($0.pathExtension) }) else { return nil }
        return found
    }
}
