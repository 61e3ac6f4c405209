import Foundation
import XCTest
@testable import GraftWeights

final class NumpyTests: XCTestCase {
    func testNpyVariantsMatchNumpy() throws {
        for name in ["f4", "f8", "i8", "i4", "f2", "u1", "b1", "big_f4", "fortran_f4", "scalar_f4", "v2_f4", "v3_f4"] {
            let f = try WeightFile.open(WeightFixtures.url(name + ".npy"))
            XCTAssertEqual(f.format, .npy)
            try assertMatchesExpected(f, name + ".npy")
            XCTAssertEqual(try Npy.read(WeightFixtures.url(name + ".npy")).shape, f.tensors.first?.shape)
        }
    }

    func testNpyRoundTripIsByteIdenticalToNumpy() throws {
        // numpy writes the same v1 header (padded to 64 bytes) that Graft writes.
        for name in ["f4", "f8", "i8", "i4", "f2", "u1", "b1", "scalar_f4"] {
            let t = try Npy.read(WeightFixtures.url(name + ".npy"))
            XCTAssertEqual(Array(try Npy.encode(t)), try WeightFixtures.bytes(name + ".npy"), name)
        }
        let t = try StoredTensor(name: "x", shape: [2, 2], floats: [1, 2, 3, 4])
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("graft-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: out) }
        try Npy.write(t, to: out)
        let back = try Npy.read(out)
        XCTAssertEqual(back.shape, [2, 2])
        XCTAssertEqual(try back.floats(), [1, 2, 3, 4])
        XCTAssertEqual((try Data(contentsOf: out).count - 16) % 64, 0)
    }

    func testBFloat16HasNoNumpyType() throws {
        let t = try StoredTensor(name: "b", dtype: .bf16, shape: [1], bytes: TensorBytes([0x80, 0x3F]))
        guard case .unsupported? = assertWeightsError("bf16", { try Npy.encode(t) }) else { return XCTFail() }
    }

    func testStoredNpz() throws {
        let f = try WeightFile.open(WeightFixtures.url("stored.npz"))
        XCTAssertEqual(f.format, .npz)
        try assertMatchesExpected(f, "stored.npz")
    }

    func testCompressedNpzIsRefusedByName() throws {
        let e = assertWeightsError("deflate") { try WeightFile.open(WeightFixtures.url("compressed.npz")) }
        guard case let .unsupported(_, context, _)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue(context.contains("weight.npy"))
    }

    func testBadHeaders() throws {
        func npy(_ header: String, data: [UInt8] = []) -> [UInt8] {
            let h = Array(header.utf8)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data
        }
        let cases: [(String, [UInt8])] = [
            ("huge shape", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }")),
            ("overflowing shape", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }")),
            ("object array", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }")),
            ("structured", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }")),
            ("missing key", npy("{'descr': '<f4', 'shape': (1,), }")),
            ("unknown key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}")),
            ("short data", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: [0, 0, 0, 0])),
            ("version 9", [0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0]),
            ("v2 header length past end", [0x93] + Array("NUMPY".utf8) + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F]),
        ]
        for (what, bytes) in cases { assertWeightsError(what) { try WeightFile.decode(bytes) } }
        let e = assertWeightsError("huge") { try WeightFile.decode(cases[0].1) }
        guard case .sizeExceedsFile? = e else { return XCTFail("\(String(describing: e))") }
    }
}
