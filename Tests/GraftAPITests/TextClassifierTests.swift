import Foundation
import Graft
import XCTest

/// The three strategies on Rotten Tomatoes reviews through the public API,
/// with save-then-load giving identical predictions.
final class TextClassifierTests: XCTestCase {
    var tmp: URL!
    override func setUp() { tmp = APIFixtures.temporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    func testFeatureExtractionOnReviews() async throws {
        let train = try APIFixtures.reviews(perClass: 12)
        let test = try APIFixtures.reviews(perClass: 10, skip: 12)
        let classifier = try await TextClassifier.train(data: .texts(train.texts, labels: train.labels),
                                                        parameters: Parameters(validation: .perClass(2))).result
        XCTAssertEqual(classifier.classNames, ["fresh", "rotten"])
        XCTAssertEqual(classifier.manifest.model, "all-minilm-l6-v2")
        XCTAssertEqual(classifier.validationMetrics?.count, 4)
        let metrics = try classifier.evaluate(on: .texts(test.texts, labels: test.labels))
        XCTAssertEqual(metrics.count, 20)
        XCTAssertGreaterThan(metrics.accuracy, 0.5, "\(metrics)")
        // A feature bundle decides on the encoder's own sentence vectors.
        let direct = try Embedder().encode(Array(test.texts.prefix(3)))
        let viaClassifier = try classifier.embeddings(texts: Array(test.texts.prefix(3)))
        for (a, b) in zip(direct.joined(), viaClassifier.joined()) { XCTAssertEqual(a, b, accuracy: 1e-5) }

        let bundle = tmp.appendingPathComponent("reviews")
        try classifier.write(to: bundle)
        let loaded = try TextClassifier(contentsOf: bundle)
        XCTAssertEqual(try loaded.predict(texts: test.texts, top: 2), try classifier.predict(texts: test.texts, top: 2))
        XCTAssertEqual(try loaded.predict(text: test.texts[0], top: 1).count, 1)
    }

    func testFineTuneLastLayer() async throws {
        let train = try APIFixtures.reviews(perClass: 6)
        var parameters = Parameters(strategy: .fineTune(unfreeze: 1), validation: .perClass(1), maxEpochs: 1, batchSize: 8)
        parameters.frozenTrunkPrecision = .fp32   // the five frozen layers as at inference (docs/TRANSFER.md)
        let classifier = try await TextClassifier.train(data: .texts(train.texts, labels: train.labels), parameters: parameters).result
        XCTAssertEqual(classifier.manifest.strategy, .fineTune(unfreeze: 1))
        XCTAssertTrue(classifier.manifest.notes["frozenTrunkPrecision"]?.hasPrefix("fp32") == true, "\(classifier.manifest.notes)")
        XCTAssertTrue(classifier.manifest.notes["recipe"]?.hasPrefix("LP-FT") == true)  // ", probe kept" when no epoch beat it
        XCTAssertNotNil(classifier.manifest.notes["probeValidationAccuracy"])
        // One MiniLM layer (about 1.8M weights) plus a 384 x 2 head.
        let trainable = Int(classifier.manifest.notes["trainableParameters"] ?? "") ?? 0
        XCTAssertGreaterThan(trainable, 1_000_000)
        XCTAssertLessThan(trainable, 3_000_000)
        XCTAssertEqual(classifier.embeddingDimension, 384)
        let bundle = tmp.appendingPathComponent("ft")
        try classifier.write(to: bundle)
        let loaded = try TextClassifier(contentsOf: bundle)
        XCTAssertEqual(try loaded.predict(texts: train.texts), try classifier.predict(texts: train.texts))
        XCTAssertEqual(try loaded.embeddings(texts: [train.texts[0]]), try classifier.embeddings(texts: [train.texts[0]]))
    }

    func testFromScratchIsARandomlyInitialisedEncoder() async throws {
        let train = try APIFixtures.reviews(perClass: 5)
        let classifier = try await TextClassifier.train(
            data: .texts(train.texts, labels: train.labels),
            parameters: Parameters(strategy: .fromScratch, validation: .none, maxEpochs: 1, batchSize: 10)).result
        XCTAssertEqual(classifier.manifest.strategy, .fromScratch)
        XCTAssertEqual(classifier.manifest.notes["recipe"], "from scratch")
        // Every encoder weight trained: all of MiniLM's 22.7M.
        XCTAssertGreaterThan(Int(classifier.manifest.notes["trainableParameters"] ?? "") ?? 0, 22_000_000)
        let bundle = tmp.appendingPathComponent("scratch")
        try classifier.write(to: bundle)
        XCTAssertEqual(try TextClassifier(contentsOf: bundle).predict(texts: train.texts), try classifier.predict(texts: train.texts))
    }

    func testTableDataFromJSONLines() async throws {
        let train = try APIFixtures.reviews(perClass: 4)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let file = tmp.appendingPathComponent("reviews.jsonl")
        let lines = try zip(train.texts, train.labels).map { t, l in
            String(decoding: try JSONSerialization.data(withJSONObject: ["text": t, "label": l]), as: UTF8.self)
        }
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try await TextClassifier.train(data: .table(file), parameters: Parameters(validation: .none)).result
        let fromMemory = try await TextClassifier.train(data: .texts(train.texts, labels: train.labels),
                                                        parameters: Parameters(validation: .none)).result
        // Same examples, same seed: the same head, whichever way the data came.
        XCTAssertEqual(try fromFile.predict(texts: train.texts), try fromMemory.predict(texts: train.texts))
    }
}
