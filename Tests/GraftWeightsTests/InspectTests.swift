import Foundation
import XCTest
@testable import GraftWeights

final class InspectTests: XCTestCase {
    func testReportListsEveryTensor() throws {
        let f = try WeightFile.open(WeightFixtures.url("checkpoint_zip.pth"))
        let report = inspectReport(f)
        XCTAssertTrue(report.contains("fc.weight  F32    [2, 3]"), report)
        XCTAssertTrue(report.contains("2 tensors, 8 elements, 32 bytes"), report)
        XCTAssertTrue(report.contains("metadata epoch = 7"), report)
    }

    func testJSONSummaryDecodes() throws {
        let f = try WeightFile.open(WeightFixtures.url("tiny.safetensors"))
        let json = try WeightSummary(f).json()
        let back = try JSONDecoder().decode(WeightSummary.self, from: Data(json.utf8))
        XCTAssertEqual(back, WeightSummary(f))
        XCTAssertEqual(back.tensors.map(\.name), f.names)
        XCTAssertEqual(back.format, .safetensors)
        XCTAssertTrue(json.contains("\"dtype\" : \"BF16\""), json)
    }

    /// graft convert: every supported format to safetensors, values unchanged.
    func testConvertToSafetensorsKeepsValues() throws {
        for name in ["dtypes_legacy.pth", "dtypes_zip.pth", "tiny.onnx", "stored.npz", "fortran_f4.npy"] {
            let f = try WeightFile.open(WeightFixtures.url(name))
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("graft-convert-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: out) }
            try f.writeSafetensors(to: out)
            let back = try WeightFile.open(out)
            XCTAssertEqual(back.names, f.names, name)
            for t in f.tensors {
                XCTAssertEqual(back[t.name]?.dtype, t.dtype, name)
                XCTAssertEqual(back[t.name]?.shape, t.shape, name)
                XCTAssertEqual(back[t.name]?.bytes.data, t.bytes.data, "\(name) \(t.name)")
            }
        }
    }
}
