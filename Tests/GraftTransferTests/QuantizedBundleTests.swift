import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftTransfer
import XCTest

/// `graft quantize --bundle` (docs/PRECISION.md, "int8 for trained networks"): a from-scratch network bundle is
/// calibrated on data, copied with its ranges, and the copy runs int8 close to fp32; the original is refused in int8.
final class QuantizedBundleTests: XCTestCase {
    var tmp: URL!
    override func setUp() { tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-qbundle-\(UUID().uuidString)") }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    func testQuantizedCopyRunsInt8CloseToFP32() throws {
        let original = tmp.appendingPathComponent("scratch"), quantized = tmp.appendingPathComponent("scratch.int8")
        var o = JobOptions(workDirectory: tmp.appendingPathComponent("work"))
        o.bundle = original
        o.perClass = 20
        o.validation = .perClass(2)
        o.testCount = 0
        o.training.epochs = 3
        o.training.batchSize = 16
        o.training.augment = false
        _ = try TransferJob(data: try DataSource.resolve("digits"), strategy: .fromScratch, options: o).run()

        // The trained network has no calibration: int8 is refused, naming the fix.
        XCTAssertThrowsError(try TrainedModel(bundle: original, precision: .int8)) { error in
            guard case KernelError.unsupportedPrecision(.int8, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("graft quantize --bundle \(original.path)"), reason)
        }

        let digits = try BuiltinDatasets.digits()
        let summary = try PostTrainingQuantization(items: 200).run(bundle: original, dataset: digits, to: quantized)
        XCTAssertEqual(summary.items, 200)
        XCTAssertEqual(summary.calibratedConvolutions, summary.convolutions)
        XCTAssertGreaterThan(summary.convolutions, 1)
        XCTAssertEqual(summary.usage, "graft predict --bundle \(quantized.path) --precision int8")
        XCTAssertEqual(try TrainedModel(bundle: quantized).manifest, try TrainedModel(bundle: original).manifest)

        // Held-out digits (the last 300; training drew 20 per class from the start).
        let images = (digits.count - 300..<digits.count).map { digits.image(at: $0) }
        let reference = try TrainedModel(bundle: original)
        let batch = reference.batch(images: images)
        let fp32 = try reference.probabilities(batch)
        XCTAssertEqual(try TrainedModel(bundle: quantized).probabilities(batch), fp32, "the copy in fp32 is the original")
        let int8 = try TrainedModel(bundle: quantized, precision: .int8).probabilities(batch)
        XCTAssertNotEqual(int8, fp32)
        var agree = 0, largest: Float = 0, gaps: [Float] = []
        for (p, q) in zip(fp32, int8) {
            let (a, b) = (p.indices.max(by: { p[$0] < p[$1] })!, q.indices.max(by: { q[$0] < q[$1] })!)
            if a == b { agree += 1 } else { gaps.append(p[a] - p[b]) }
            largest = max(largest, zip(p, q).map { abs($0 - $1) }.max()!)
        }
        print("quantized from-scratch digits bundle: int8 top-1 equal to fp32 on \(agree)/300, largest probability change \(largest), "
              + "fp32 gaps of the changed ones \(gaps)")
        XCTAssertGreaterThanOrEqual(agree, 285, "top-1 agreement on 300 held-out digits")
        XCTAssertGreaterThan(largest, 0, "int8 really ran")
        XCTAssertLessThan(largest, 0.05)
        for gap in gaps { XCTAssertLessThanOrEqual(gap, 2 * largest, "only near ties change class") }
    }
}
