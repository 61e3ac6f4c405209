import Foundation
import GraftWeights
import XCTest

/// The .weights layout against the cfg: header versions, every float consumed, hostile files refused.
final class DarknetWeightsTests: XCTestCase {
    /// conv (batch norm, 2 filters, 3x3 over 1 channel) -> conv (bias, 1 filter, 1x1 over 2).
    static let smallCfg = try! DarknetConfig.parse("""
        [net]
        width=4
        height=4
        channels=1
        [convolutional]
        batch_normalize=1
        filters=2
        size=3
        pad=1
        activation=leaky
        [convolutional]
        filters=1
        size=1
        activation=linear
        """, file: "small.cfg")

    static func header(major: Int32 = 0, minor: Int32 = 2, revision: Int32 = 0, seen: Int64 = 32_013_312) -> [UInt8] {
        var bytes: [UInt8] = []
        for v in [major, minor, revision] { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        if Int(major) * 10 + Int(minor) >= 2 { withUnsafeBytes(of: seen.littleEndian) { bytes += $0 } }
        else { withUnsafeBytes(of: Int32(seen).littleEndian) { bytes += $0 } }
        return bytes
    }

    static func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    func testSmallFileLayoutAndNames() throws {
        XCTAssertEqual(Self.smallCfg.parameterCount, 4 * 2 + 2 * 9 + 1 + 2)
        let values = (0..<29).map { Float($0) }
        let w = try DarknetWeights.read(bytes: Self.header() + Self.floats(values), config: Self.smallCfg)
        XCTAssertEqual(w.seen, 32_013_312)
        XCTAssertEqual(w.tensors.map(\.name), ["layers.0.bn.bias", "layers.0.bn.weight", "layers.0.bn.running_mean",
                                               "layers.0.bn.running_var", "layers.0.conv.weight", "layers.1.conv.bias",
                                               "layers.1.conv.weight"])
        XCTAssertEqual(try w.tensors[0].floats(), [0, 1])
        XCTAssertEqual(try w.tensors[3].floats(), [6, 7])
        XCTAssertEqual(w.tensors[4].shape, [2, 1, 3, 3])
        XCTAssertEqual(try w.tensors[4].floats(), (8..<26).map(Float.init))
        XCTAssertEqual(try w.tensors[5].floats(), [26])
        XCTAssertEqual(w.tensors[6].shape, [1, 2, 1, 1])
        XCTAssertEqual(try w.tensors[6].floats(), [27, 28])
        // Darknet before 0.2 stored `seen` as int32.
        let old = try DarknetWeights.read(bytes: Self.header(major: 0, minor: 1, seen: 7) + Self.floats(values), config: Self.smallCfg)
        XCTAssertEqual(old.seen, 7)
        XCTAssertEqual(try old.tensors[6].floats(), [27, 28])
    }

    func testRealFileConsumesEveryFloat() throws {
        let config = try DarknetConfig.read(DetectionFixtures.cfg)
        let w = try DarknetWeights.read(DetectionFixtures.weights, config: config)
        XCTAssertEqual([w.major, w.minor, w.revision], [0, 2, 0])
        XCTAssertEqual(w.tensors.reduce(0) { $0 + $1.elementCount }, 8_858_734)
        XCTAssertEqual(w.tensors.count, 11 * 5 + 2 * 2)
        XCTAssertEqual(try w.weightFile()["layers.15.conv.weight"]?.shape, [255, 512, 1, 1])
    }

    func testEveryTruncationIsATypedError() throws {
        let full = Self.header() + Self.floats((0..<29).map { Float($0) })
        for n in 0..<full.count {
            XCTAssertThrowsError(try DarknetWeights.read(bytes: Array(full.prefix(n)), file: "cut.weights", config: Self.smallCfg)) { e in
                guard let e = e as? WeightsError else { return XCTFail("untyped \(e)") }
                XCTAssertTrue(e.description.hasPrefix("cut.weights"), e.description)
            }
        }
    }

    func testTrailingBytesMeanAnotherCfg() {
        let bytes = Self.header() + Self.floats((0..<30).map { Float($0) })
        XCTAssertThrowsError(try DarknetWeights.read(bytes: bytes, file: "long.weights", config: Self.smallCfg)) { e in
            XCTAssertTrue("\(e)".contains("4 bytes left after the 29 floats small.cfg declares"), "\(e)")
        }
    }

    /// A cfg declaring a terabyte of weights is refused from the sizes alone, before any allocation.
    func testHugeDeclaredSizesAreRefusedBeforeReading() throws {
        let huge = try DarknetConfig.parse("""
            [net]
            width=8
            height=8
            channels=65536
            [convolutional]
            filters=65536
            size=31
            pad=1
            """, file: "huge.cfg")
        XCTAssertEqual(huge.parameterCount, 65536 + 65536 * 65536 * 31 * 31)
        XCTAssertThrowsError(try DarknetWeights.read(bytes: Self.header() + Self.floats([1, 2, 3]), file: "tiny.weights", config: huge)) { e in
            guard case let .sizeExceedsFile(file, _, declared, available)? = e as? WeightsError else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "tiny.weights")
            XCTAssertEqual(declared, UInt64(huge.parameterCount) * 4)
            XCTAssertEqual(available, 12)
        }
    }

    func testNegativeVersionAndRandomBytesAreTypedErrors() throws {
        XCTAssertThrowsError(try DarknetWeights.read(bytes: Self.header(major: -1) + Self.floats(Array(repeating: 0, count: 29)),
                                                     config: Self.smallCfg)) { XCTAssertTrue($0 is WeightsError) }
        var rng = SplitMix(seed: 3)
        for _ in 0..<300 {
            let bytes = (0..<rng.next(200)).map { _ in UInt8(truncatingIfNeeded: rng.next64()) }
            do { _ = try DarknetWeights.read(bytes: bytes, config: Self.smallCfg) } catch { XCTAssertTrue(error is WeightsError, "\(error)") }
        }
    }
}
