import Foundation
import GraftTransfer
import XCTest

/// What stores and bundles record of the precision (docs/PRECISION.md): a feature source says what its
/// backbone computed in, files written before precisions existed read as fp32, and fp32 sources are
/// written exactly as before (no new key), so older versions still read them.
final class PrecisionRecordTests: XCTestCase {
    func testFeatureSourcesWithoutAPrecisionAreFP32() throws {
        let old = #"{"model": "efficientnet-lite0", "layer": "penultimate", "pool": "avg", "dimension": 1280}"#
        let source = try JSONDecoder().decode(FeatureSource.self, from: Data(old.utf8))
        XCTAssertEqual(source.precision, .fp32)
        XCTAssertEqual(source, FeatureSource(model: "efficientnet-lite0", layer: "penultimate", pool: .avg, dimension: 1280))
        let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(source)) as? [String: Any]
        XCTAssertNil(written?["precision"], "fp32 is written as before")
        XCTAssertEqual(source.description, "efficientnet-lite0 @ penultimate (avg, 1280-d)")
    }

    func testBF16SourcesRoundTripAndNameThemselves() throws {
        let source = FeatureSource(model: "all-minilm-l6-v2", layer: "pooled", pool: .avg, dimension: 384, precision: .bf16)
        let data = try JSONEncoder().encode(source)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["precision"] as? String, "bf16")
        XCTAssertEqual(try JSONDecoder().decode(FeatureSource.self, from: data), source)
        XCTAssertNotEqual(source, FeatureSource(model: "all-minilm-l6-v2", layer: "pooled", pool: .avg, dimension: 384),
                          "a store in another precision is another job")
        XCTAssertTrue(source.description.hasSuffix(", bf16)"), source.description)
        let bad = #"{"model": "m", "layer": "pooled", "pool": "avg", "dimension": 3, "precision": "fp8"}"#
        XCTAssertThrowsError(try JSONDecoder().decode(FeatureSource.self, from: Data(bad.utf8)))
    }

    func testBundleManifestPrecisionIsItsHeadsFeatures() throws {
        var manifest = BundleManifest(strategy: .featureExtraction(), backbone: .efficientNetLite0, classNames: ["a", "b"])
        XCTAssertEqual(manifest.precision, .fp32, "network bundles and bundles without a source: fp32")
        manifest.source = FeatureSource(model: "efficientnet-lite0", layer: "penultimate", pool: .avg, dimension: 8, precision: .bf16)
        let back = try JSONDecoder().decode(BundleManifest.self, from: JSONEncoder().encode(manifest))
        XCTAssertEqual(back.precision, .bf16)
        XCTAssertEqual(back, manifest)
    }
}
