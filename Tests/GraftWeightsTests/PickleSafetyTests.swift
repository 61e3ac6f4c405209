import Foundation
import XCTest
@testable import GraftWeights

final class PickleSafetyTests: XCTestCase {
    /// Each committed evil pickle names a global that must be reported, never called.
    func testDisallowedGlobalsAreNamed() throws {
        let cases = [
            ("evil_os_system.pkl", "os.system"),
            ("evil_posix_system.pkl", "posix.system"),
            ("evil_builtins_eval.pkl", "builtins.eval"),
            ("evil_subprocess_Popen.pkl", "subprocess.Popen"),
            ("evil_torch_storage_load_from_bytes.pkl", "torch.storage._load_from_bytes"),
            ("evil_numpy_core_multiarray_reconstruct.pkl", "numpy.core.multiarray._reconstruct"),
            ("evil_stack_global.pkl", "builtins.exec"),
            ("evil_legacy.pth", "os.system"),
            ("evil_zip.pth", "os.system"),
        ]
        for (file, global) in cases {
            let e = assertWeightsError(file) { try WeightFile.open(WeightFixtures.url(file)) }
            guard case let .disallowedGlobal(_, _, name)? = e else { XCTFail("\(file): \(String(describing: e))"); continue }
            XCTAssertEqual(name, global, file)
            XCTAssertTrue(e?.description.contains(global) ?? false)
        }
    }

    func testOffsetOfDisallowedGlobalPointsAtTheOpcode() throws {
        let e = assertWeightsError("os.system") { try WeightFile.open(WeightFixtures.url("evil_os_system.pkl")) }
        XCTAssertEqual(e, .disallowedGlobal(file: WeightFixtures.url("evil_os_system.pkl").path, offset: 2, global: "os.system"))
    }

    func testPlainPickleOfScalarsGivesMetadataOnly() throws {
        var p = PickleBuilder()
        p.op(0x7D); p.op(0x28); p.string("epoch"); p.int(3); p.string("name"); p.string("x"); p.op(0x75); p.stop()
        let f = try WeightFile.decode(p.bytes, fileName: "meta.pkl")
        XCTAssertEqual(f.format, .pickle)
        XCTAssertTrue(f.tensors.isEmpty)
        XCTAssertEqual(f.metadata, ["epoch": "3", "name": "x"])
    }

    func testMemoizedDictFilledLaterIsSeenFilled() throws {
        // {'a': {'w': tensor}} where the inner dict is memoized empty, filled, then fetched by BINGET.
        var p = PickleBuilder()
        p.op(0x7D)                       // outer
        p.op(0x7D); p.raw([0x71, 0x05])  // inner, BINPUT 5
        p.string("w")
        p.tensor("FloatStorage", key: "0", count: 2, offset: 0, size: [2], stride: [1])
        p.op(0x73)                       // inner['w'] = tensor
        p.op(0x30)                       // POP inner
        p.string("a"); p.raw([0x68, 0x05]); p.op(0x73) // outer['a'] = memo[5]
        p.stop()
        let f = try WeightFile.decode(legacyFile(main: p.bytes, storages: [("0", 2, le32(Float(1.5).bitPattern) + le32(Float(-2).bitPattern))]))
        XCTAssertEqual(f.names, ["a.w"])
        XCTAssertEqual(try f["a.w"]?.floats(), [1.5, -2])
    }

    func testHugeDeclaredLengthsAreRefusedBeforeAllocating() throws {
        let cases: [(String, [UInt8])] = [
            ("BINUNICODE 4 GB", [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x61]),
            ("BINUNICODE8 2^63", [0x80, 0x04, 0x8D] + le64(1 << 63) + [0x61]),
            ("BINBYTES8", [0x80, 0x04, 0x8E] + le64(UInt64.max)),
            ("LONG4", [0x80, 0x02, 0x8B, 0xFF, 0xFF, 0xFF, 0x7F]),
            ("FRAME", [0x80, 0x04, 0x95] + le64(1 << 40)),
        ]
        for (what, bytes) in cases {
            let e = assertWeightsError(what) { try WeightFile.decode(bytes) }
            guard case .sizeExceedsFile? = e else { XCTFail("\(what): \(String(describing: e))"); continue }
        }
    }

    func testMalformedPicklesGiveTypedErrors() throws {
        let cases: [(String, [UInt8])] = [
            ("stack underflow", [0x80, 0x02, 0x2E]),
            ("APPEND to int", [0x80, 0x02, 0x4B, 1, 0x4B, 2, 0x61, 0x2E]),
            ("missing memo", [0x80, 0x02, 0x68, 0x09, 0x2E]),
            ("huge memo index is fine to store but not to fetch", [0x80, 0x02, 0x4E, 0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0x6A, 0, 0, 0, 1, 0x2E]),
            ("no MARK", [0x80, 0x02, 0x74, 0x2E]),
            ("unknown opcode", [0x80, 0x02, 0xFF]),
            ("INST is not implemented", [0x80, 0x02, 0x69]),
            ("protocol 9", [0x80, 0x09, 0x2E]),
            ("REDUCE on a string", [0x80, 0x02, 0x55, 1, 0x41, 0x29, 0x52, 0x2E]),
            ("GLOBAL without newline", [0x80, 0x02, 0x63] + Array(repeating: 0x41, count: 300)),
            ("invalid UTF-8", [0x80, 0x02, 0x8C, 2, 0xC3, 0x28, 0x2E]),
            ("no STOP", [0x80, 0x02, 0x4E]),
        ]
        for (what, bytes) in cases {
            let e = assertWeightsError(what) { try WeightFile.decode(bytes) }
            if what == "unknown opcode" { XCTAssertEqual(e, .unsupportedOpcode(file: "<memory>", offset: 2, opcode: 0xFF)) }
        }
    }

    func testSharedReferencesCannotBlowUpTheWalk() throws {
        // t0 = (); t(k+1) = (tk, tk) via the memo: 2^60 leaves if walked naively.
        var p = PickleBuilder()
        p.op(0x29); p.raw([0x71, 0])
        for k in 0..<60 {
            p.raw([0x68, UInt8(k)]); p.raw([0x68, UInt8(k)]); p.op(0x86); p.raw([0x71, UInt8(k + 1)])
            p.op(0x30)
        }
        p.raw([0x68, 60]); p.stop()
        let start = Date()
        let e = assertWeightsError("exponential sharing") { try WeightFile.decode(p.bytes) }
        guard case .malformed? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testSelfContainingListTerminates() throws {
        // l = []; l.append(l)
        let bytes: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]
        let e = assertWeightsError("cycle") { try WeightFile.decode(bytes) }
        guard case .malformed? = e else { return XCTFail("\(String(describing: e))") }
    }

    func testTensorViewsAreBoundsChecked() throws {
        let storage: [(key: String, count: UInt64, bytes: [UInt8])] = [("0", 4, [UInt8](repeating: 0, count: 16))]
        let cases: [(String, Int, [Int], [Int])] = [
            ("past the storage", 0, [5], [1]),
            ("offset past the storage", 4, [1], [1]),
            ("stride past the storage", 0, [2, 2], [3, 1]),
            ("huge shape", 0, [1 << 40, 1 << 40], [0, 0]),
            ("overflowing shape", 0, [1 << 62, 1 << 62], [1, 1]),
            ("negative size", 0, [-1], [1]),
            ("rank mismatch", 0, [2, 2], [1]),
        ]
        for (what, offset, size, stride) in cases {
            var p = PickleBuilder()
            p.op(0x7D); p.string("w")
            p.tensor("FloatStorage", key: "0", count: 4, offset: offset, size: size, stride: stride)
            p.op(0x73); p.stop()
            let e = assertWeightsError(what) { try WeightFile.decode(legacyFile(main: p.bytes, storages: storage)) }
            guard case .invalidTensor(_, "w", _)? = e else { XCTFail("\(what): \(String(describing: e))"); continue }
        }
    }

    func testStrideZeroBroadcastIsCopiedWithinBudget() throws {
        // A stride-0 view of 1 element as 1M elements: legitimate in PyTorch, but the copy would be
        // far larger than the file, so it is refused.
        var p = PickleBuilder()
        p.op(0x7D); p.string("w")
        p.tensor("FloatStorage", key: "0", count: 1, offset: 0, size: [1 << 20], stride: [0])
        p.op(0x73); p.stop()
        let e = assertWeightsError("stride 0") { try WeightFile.decode(legacyFile(main: p.bytes, storages: [("0", 1, [0, 0, 0x80, 0x3F])])) }
        guard case .sizeExceedsFile? = e else { return XCTFail("\(String(describing: e))") }
        // A small one is fine.
        var q = PickleBuilder()
        q.op(0x7D); q.string("w")
        q.tensor("FloatStorage", key: "0", count: 1, offset: 0, size: [3], stride: [0])
        q.op(0x73); q.stop()
        let f = try WeightFile.decode(legacyFile(main: q.bytes, storages: [("0", 1, [0, 0, 0x80, 0x3F])]))
        XCTAssertEqual(try f["w"]?.floats(), [1, 1, 1])
    }

    func testLegacyStorageSizeMustMatchThePickle() throws {
        var p = PickleBuilder()
        p.op(0x7D); p.string("w")
        p.tensor("FloatStorage", key: "0", count: 4, offset: 0, size: [4], stride: [1])
        p.op(0x73); p.stop()
        let wrongCount = legacyFile(main: p.bytes, storages: [("0", 3, [UInt8](repeating: 0, count: 12))])
        guard case .malformed? = assertWeightsError("count 3 vs 4", { try WeightFile.decode(wrongCount) }) else { return XCTFail() }
        let huge = legacyFile(main: p.bytes, storages: [("0", 4, [])]).dropLast(8) + le64(1 << 61)
        XCTAssertNotNil(assertWeightsError("count 2^61") { try WeightFile.decode(Array(huge)) })
        let missing = legacyFile(main: p.bytes, storages: [])
        guard case .malformed? = assertWeightsError("not stored", { try WeightFile.decode(missing) }) else { return XCTFail() }
    }
}
