import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import XCTest

/// EfficientNet-Lite0/1 with the real package weights against the reference
/// package code on the same preprocessed pixels (fixtures/models/make_efficientnet.py):
/// max abs logit difference <= 1e-3 (relative to the logit scale) and identical top-5.
final class EfficientNetParityTests: XCTestCase {
    struct Reference: Decodable {
        struct Image: Decodable { let pixels: String; let logits: [Float]; let top5: [Int]; let penultimate_first8: [Float] }
        let resolution: Int
        let images: [String: Image]
    }

    func check(_ n: Int) throws {
        let dir = FixturePaths.fixtures.appendingPathComponent("models/efficientnet")
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: dir.appendingPathComponent("efficientnet-lite\(n).json")))
        let entry = try ModelZoo.entry("efficientnet-lite\(n)")
        let model = EfficientNetLite(try .lite(n))
        try model.load(contentsOf: entry.url)   // strict: every key, every shape
        let names = ref.images.keys.sorted()
        let r = ref.resolution
        var pixels: [Float] = []
        for name in names {
            let bytes = try Data(contentsOf: dir.appendingPathComponent(ref.images[name]!.pixels))
            XCTAssertEqual(bytes.count, r * r * 3)
            pixels += bytes.map { (Float($0) - 127) / 128 }
        }
        let x = try Tensor(shape: [names.count, r, r, 3], values: pixels)
        let (logits, features) = try withNoGrad {
            (try model.forward(x, upTo: nil, training: false), try model.forward(x, upTo: "penultimate", training: false))
        }
        for (i, name) in names.enumerated() {
            let expected = ref.images[name]!
            let row = Array(logits.values[(i * 1000)..<((i + 1) * 1000)])
            let scale = max(1, expected.logits.map(abs).max()!)
            let diff = zip(row, expected.logits).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(diff, 1e-3 * scale, "lite\(n) \(name): max abs logit diff \(diff)")
            let top5 = row.enumerated().sorted { $0.element > $1.element }.prefix(5).map(\.offset)
            XCTAssertEqual(top5, expected.top5, "lite\(n) \(name) top-5")
            let f = Array(features.values[(i * 1280)..<(i * 1280 + 8)])
            for (a, b) in zip(f, expected.penultimate_first8) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b))) }
        }
    }

    func testLite0MatchesReference() throws { try check(0) }
    func testLite1MatchesReference() throws { try check(1) }
    /// Every block through the fused inverted-residual kernel, whatever the default policy.
    func testLite0MatchesReferenceWithEveryBlockFused() throws {
        try FusedInvertedResidual.$minimumSide.withValue(1) { try check(0) }
    }

    func testUnknownCutPointIsNamed() throws {
        let model = EfficientNetLite(try .lite(0))
        XCTAssertThrowsError(try model.forward(Tensor.zeros([1, 32, 32, 3]), upTo: "block99", training: false)) { e in
            XCTAssertTrue("\(e)".contains("efficientnet-lite0 has no cut point 'block99'"), "\(e)")
        }
    }
}
