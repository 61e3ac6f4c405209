import Foundation
import XCTest
@testable import GraftWeights

final class OnnxTests: XCTestCase {
    func testTinyModelAllEncodings() throws {
        let f = try WeightFile.open(WeightFixtures.url("tiny.onnx"))
        XCTAssertEqual(f.format, .onnx)
        try assertMatchesExpected(f, "tiny.onnx")
        XCTAssertEqual(f["fc.weight"]?.bytes.isMemoryMapped, true, "raw_data is zero-copy")
        XCTAssertEqual(f["fc.bias"]?.bytes.isMemoryMapped, false, "float_data is decoded")
    }

    func testExternalDataIsRefusedByName() throws {
        let e = assertWeightsError("external") { try WeightFile.open(WeightFixtures.url("external.onnx")) }
        guard case let .unsupported(_, context, feature)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue(context.contains("outside"))
        XCTAssertEqual(feature, "external data")
    }

    /// PP-OCR classifier: weights in Constant nodes, as float_data, int64_data and an empty int32.
    func testRapidOCRClassifierMatchesReference() throws {
        let f = try WeightFile.open(WeightFixtures.package("rapidocr-onnxruntime/rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"))
        try assertMatchesReference(f, "onnx_cls")
        XCTAssertEqual(f.metadata["onnx.producer_name"], "PaddlePaddle")
    }

    /// PP-OCRv4 detector: weights in Constant nodes as raw_data.
    func testRapidOCRDetectorMatchesReference() throws {
        let f = try WeightFile.open(WeightFixtures.package("rapidocr-onnxruntime/rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"))
        try assertMatchesReference(f, "onnx_det")
    }

    func testProtobufEdgeCases() throws {
        let cases: [(String, [UInt8])] = [
            ("varint of 11 bytes", [0x08] + [UInt8](repeating: 0xFF, count: 11)),
            ("length past the end", [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            ("group wire type", [0x0B]),
            ("field 0", [0x00]),
            ("no graph", [0x08, 0x07]),
            // graph { initializer { dims: 2^40, dims: 2^40, data_type: FLOAT, float_data: [] } }
            ("huge dims", [0x3A, 0x10, 0x2A, 0x0E, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x10, 0x01]),
            // graph { initializer { dims: 4, data_type: FLOAT, raw_data: 3 bytes } }
            ("raw_data size", [0x3A, 0x0B, 0x2A, 0x09, 0x08, 0x04, 0x10, 0x01, 0x4A, 0x03, 1, 2, 3]),
            // graph { initializer { dims: 2, data_type: FLOAT, float_data: [1 value] } }
            ("float_data count", [0x3A, 0x0B, 0x2A, 0x09, 0x08, 0x02, 0x10, 0x01, 0x25, 0, 0, 0x80, 0x3F]),
            // graph { initializer { dims: 1, data_type: STRING } }
            ("string tensor", [0x3A, 0x06, 0x2A, 0x04, 0x08, 0x01, 0x10, 0x08]),
        ]
        for (what, bytes) in cases {
            assertWeightsError(what) { try WeightFile.decode(bytes, fileName: "x.onnx") }
        }
    }
}
