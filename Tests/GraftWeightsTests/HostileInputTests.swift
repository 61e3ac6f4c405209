import Foundation
import XCTest
@testable import GraftWeights

/// Broken and hostile files: each must give a WeightsError, never crash, hang or over-allocate.
final class HostileInputTests: XCTestCase {
    /// Formats with explicit lengths: proper prefixes must be rejected.
    func testTruncatedAtEveryOffset() throws {
        for name in ["tiny.safetensors", "dtypes_legacy.pth", "dtypes_zip.pth", "f4.npy", "fortran_f4.npy", "stored.npz", "evil_os_system.pkl"] {
            let bytes = try WeightFixtures.bytes(name)
            // Every offset in the first and last 3 KB (headers, pickles, zip directories), every 7th between.
            let offsets = (0..<bytes.count).filter { $0 < 3072 || $0 >= bytes.count - 3072 || $0 % 7 == 0 }
            for n in offsets {
                do {
                    let f = try WeightFile.decode(bytes[0..<n], fileName: name)
                    XCTFail("\(name) truncated to \(n) bytes read as \(f.tensors.count) tensors")
                } catch is WeightsError {
                } catch {
                    XCTFail("\(name) truncated to \(n): \(error)")
                }
            }
        }
    }

    /// Protobuf has no overall length: a cut on a field boundary is a valid, shorter model. Every
    /// prefix must either fail with a WeightsError or read a prefix of the tensors.
    func testTruncatedOnnx() throws {
        let bytes = try WeightFixtures.bytes("tiny.onnx")
        let full = try WeightFile.decode(bytes, fileName: "tiny.onnx")
        var rejected = 0
        for n in 0..<bytes.count {
            do {
                let f = try WeightFile.decode(bytes[0..<n], fileName: "tiny.onnx")
                XCTAssertEqual(f.names, Array(full.names.prefix(f.names.count)), "prefix \(n)")
            } catch is WeightsError {
                rejected += 1
            } catch {
                XCTFail("tiny.onnx truncated to \(n): \(error)")
            }
        }
        XCTAssertGreaterThan(rejected, bytes.count * 9 / 10)
    }

    /// Every single-bit flip in the first 256 bytes (headers, pickle opcodes, zip records) and
    /// in the central directory either reads or gives a WeightsError.
    func testBitFlipsInHeaders() throws {
        for name in ["tiny.safetensors", "dtypes_legacy.pth", "dtypes_zip.pth", "f4.npy", "tiny.onnx", "stored.npz"] {
            let bytes = try WeightFixtures.bytes(name)
            var positions = Array(0..<min(256, bytes.count))
            positions += Array(max(0, bytes.count - 200)..<bytes.count)
            var errors = 0
            for p in positions {
                for bit in 0..<8 {
                    var b = bytes
                    b[p] ^= UInt8(1 << bit)
                    do {
                        _ = try WeightFile.decode(b, fileName: name)
                    } catch is WeightsError {
                        errors += 1
                    } catch {
                        XCTFail("\(name) bit \(bit) at \(p): \(error)")
                    }
                }
            }
            XCTAssertGreaterThan(errors, 0, name)
        }
    }

    func testSafetensorsHeaderRules() throws {
        func file(_ header: String, data: Int) -> [UInt8] {
            let h = Array(header.utf8)
            return le64(UInt64(h.count)) + h + [UInt8](repeating: 0, count: data)
        }
        let cases: [(String, [UInt8])] = [
            ("offsets past the end", file(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8)),
            ("overlap", file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12)),
            ("gap", file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, data: 12)),
            ("trailing bytes", file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 8)),
            ("shape vs bytes", file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)),
            ("huge shape", file(#"{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}"#, data: 8)),
            ("overflowing shape", file(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#, data: 0)),
            ("negative shape", file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, data: 0)),
            ("reversed offsets", file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: 4)),
            ("unknown dtype", file(#"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: 1)),
            ("metadata not strings", file(#"{"__metadata__":{"a":1}}"#, data: 0)),
            ("not JSON", file("{nope}   ", data: 0)),
            ("header length past the end", le64(1 << 20) + Array("{}".utf8)),
            ("header length over 100 MB", le64(200_000_000) + Array("{}".utf8)),
            ("header length 2^64-1", le64(.max) + Array("{}".utf8)),
        ]
        for (what, bytes) in cases {
            assertWeightsError(what) { try WeightFile.decode(bytes, fileName: "x.safetensors") }
        }
        let e = assertWeightsError("past end") { try WeightFile.decode(cases[0].1, fileName: "x.safetensors") }
        guard case .invalidTensor(_, "a", _)? = e else { return XCTFail("\(String(describing: e))") }
        // A valid empty file reads.
        XCTAssertEqual(try WeightFile.decode(file("{}      ", data: 0)).tensors.count, 0)
    }

    // MARK: zip entries with wrong sizes

    /// Offsets of the central-directory record and local header of the entry named `name`.
    private func zipRecords(_ b: [UInt8], _ name: String) -> (central: Int, local: Int)? {
        let target = Array(name.utf8)
        for i in 0..<(b.count - 46) where b[i] == 0x50 && b[i + 1] == 0x4B && b[i + 2] == 0x01 && b[i + 3] == 0x02 {
            let n = Int(b[i + 28]) | Int(b[i + 29]) << 8
            guard i + 46 + n <= b.count, Array(b[(i + 46)..<(i + 46 + n)]) == target else { continue }
            let local = Int(b[i + 42]) | Int(b[i + 43]) << 8 | Int(b[i + 44]) << 16 | Int(b[i + 45]) << 24
            return (i, local)
        }
        return nil
    }

    private func setSizes(_ b: inout [UInt8], at offset: Int, compressed: UInt32, size: UInt32) {
        for (k, v) in le32(compressed).enumerated() { b[offset + k] = v }
        for (k, v) in le32(size).enumerated() { b[offset + 4 + k] = v }
    }

    func testZipEntriesWithWrongSizes() throws {
        let bytes = try WeightFixtures.bytes("dtypes_zip.pth")
        let name = "dtypes_zip/data/0"
        let (central, local) = try XCTUnwrap(zipRecords(bytes, name))
        let size = bytes[(central + 24)..<(central + 28)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }

        // Grown in both records: runs into the next entry.
        var grown = bytes
        setSizes(&grown, at: central + 20, compressed: size + 64, size: size + 64)
        setSizes(&grown, at: local + 18, compressed: size + 64, size: size + 64)
        guard case .malformed(_, _, let context, _)? = assertWeightsError("grown", { try WeightFile.decode(grown) }) else { return XCTFail() }
        XCTAssertTrue(context.contains(name))

        // Shrunk in both records: the storage no longer holds its elements.
        var shrunk = bytes
        setSizes(&shrunk, at: central + 20, compressed: size - 4, size: size - 4)
        setSizes(&shrunk, at: local + 18, compressed: size - 4, size: size - 4)
        guard case .malformed(_, _, let context2, _)? = assertWeightsError("shrunk", { try WeightFile.decode(shrunk) }) else { return XCTFail() }
        XCTAssertTrue(context2.contains(name))

        // Central and local headers disagree.
        var disagree = bytes
        setSizes(&disagree, at: central + 20, compressed: size + 1, size: size + 1)
        XCTAssertNotNil(assertWeightsError("disagree") { try WeightFile.decode(disagree) })

        // Stored entry whose compressed and uncompressed sizes differ.
        var mixed = bytes
        setSizes(&mixed, at: central + 20, compressed: size, size: size * 2)
        setSizes(&mixed, at: local + 18, compressed: size, size: size * 2)
        XCTAssertNotNil(assertWeightsError("mixed") { try WeightFile.decode(mixed) })

        // Size of 4 GB - 2 in both: past the file.
        var huge = bytes
        setSizes(&huge, at: central + 20, compressed: 0xFFFF_FFFE, size: 0xFFFF_FFFE)
        setSizes(&huge, at: local + 18, compressed: 0xFFFF_FFFE, size: 0xFFFF_FFFE)
        guard case .sizeExceedsFile? = assertWeightsError("huge", { try WeightFile.decode(huge) }) else { return XCTFail() }

        // Local header offset pointing into the middle of another entry.
        var moved = bytes
        for (k, v) in le32(UInt32(local + 7)).enumerated() { moved[central + 42 + k] = v }
        XCTAssertNotNil(assertWeightsError("moved") { try WeightFile.decode(moved) })
    }

    func testZipEntryCountLargerThanDirectory() throws {
        var bytes = try WeightFixtures.bytes("stored.npz")
        // The classic end record's entry counts (no ZIP64 here).
        let eocd = try XCTUnwrap((0..<(bytes.count - 3)).last { bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 5 && bytes[$0 + 3] == 6 })
        bytes[eocd + 10] = 0xFF; bytes[eocd + 11] = 0xFF
        guard case .sizeExceedsFile? = assertWeightsError("entries", { try WeightFile.decode(bytes) }) else { return XCTFail() }
    }

    func testUnknownAndEmptyFiles() throws {
        guard case .unknownFormat? = assertWeightsError("empty", { try WeightFile.decode([UInt8]()) }) else { return XCTFail() }
        guard case .unknownFormat? = assertWeightsError("gzip", { try WeightFile.decode([0x1F, 0x8B, 8, 0]) }) else { return XCTFail() }
        guard case .cannotRead? = assertWeightsError("missing", { try WeightFile.open(URL(fileURLWithPath: "/nonexistent/x.pth")) }) else { return XCTFail() }
        guard case .cannotRead? = assertWeightsError("directory", { try WeightFile.open(WeightFixtures.dir) }) else { return XCTFail() }
    }
}
