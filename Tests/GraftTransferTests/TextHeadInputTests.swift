import Foundation
import GraftData
import GraftNN
import GraftTensor
import XCTest
@testable import GraftTransfer

/// A text network's head reads the encoder's own sentence embedding (the `pooled` cut, normalised), the
/// features every feature head reads, so LP-FT's probe is the logistic-regression head; bundles written before
/// `BundleManifest.headInput` existed keep reading the unnormalised mean states they were trained on.
final class TextHeadInputTests: XCTestCase {
    let texts = ["a wonderful, moving film", "dull and far too long", "the cast is superb but the plot is thin", "ok"]

    func testNetworkHeadReadsThePooledEmbeddingOfFeatureExtraction() throws {
        let backbone = try XCTUnwrap(try Backbones.load(.miniLM) as? TextBackbone)
        let network = try XCTUnwrap(try backbone.network(outputs: 2, unfreeze: 1, seed: 3) as? TextTaskNetwork)
        let batch = Batch.texts(texts)
        let head = try withNoGrad { try network.headInput(batch, training: false) }
        let features = try backbone.features(batch, at: "pooled", pool: .avg, paddedTo: texts.count)
        XCTAssertEqual(head.shape, features.shape)
        for (a, b) in zip(head.values, features.values) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        for row in 0..<texts.count {   // MiniLM's sentence-transformers config normalises
            let v = head.values[(row * 384)..<((row + 1) * 384)]
            XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        }
    }

    func testBundlesRecordTheHeadInputAndOlderBundlesReadMeanStates() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-headinput-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let backbone = try XCTUnwrap(try Backbones.load(.miniLM) as? TextBackbone)
        let network = try backbone.network(outputs: 2, unfreeze: 0, seed: 3)
        let batch = Batch.texts(texts)
        let mean = try backbone.embedder.embed(texts, batchSize: texts.count, normalize: false)   // MiniLM pools by mean

        var manifest = BundleManifest(strategy: .fineTune(), backbone: .miniLM, classNames: ["neg", "pos"])
        for (name, headInput, expected) in [("old", nil, mean), ("new", "pooled", try backbone.features(batch, at: "pooled", pool: .avg, paddedTo: 4))] {
            manifest.headInput = headInput
            let url = dir.appendingPathComponent(name)
            try BundleStore.save(manifest, network: network.module, to: url)
            let model = try TrainedModel(bundle: url)
            let rows = try model.embeddings(model.batch(texts: texts))
            XCTAssertEqual(rows.count, expected.count, name)
            for (a, b) in zip(rows, expected.values) { XCTAssertEqual(a, b, accuracy: 1e-5, name) }
        }
        manifest.headInput = "cls-token"
        let bad = dir.appendingPathComponent("bad")
        try BundleStore.save(manifest, network: network.module, to: bad)
        XCTAssertThrowsError(try TrainedModel(bundle: bad)) { XCTAssertTrue("\($0)".contains("headInput 'cls-token'"), "\($0)") }
    }
}
