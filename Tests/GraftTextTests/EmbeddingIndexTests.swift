import XCTest
import GraftText

/// Cosine helpers and exhaustive top-k search, against values computed in Double by hand.
final class EmbeddingIndexTests: XCTestCase {
    func testCosineAndNormalisation() throws {
        XCTAssertEqual(try VectorSimilarity.cosine([1, 0], [1, 1]), Float(0.5).squareRoot(), accuracy: 1e-7)
        XCTAssertEqual(try VectorSimilarity.cosine([3, 4], [-3, -4]), -1, accuracy: 1e-7)
        XCTAssertEqual(try VectorSimilarity.cosine([0, 0], [1, 1]), 0)
        XCTAssertThrowsError(try VectorSimilarity.cosine([1, 2, 3], [1, 2])) { error in
            XCTAssertEqual(error as? TextError, .shapeMismatch(what: "cosine of two vectors", expected: [3], got: [2]))
        }
        XCTAssertEqual(VectorSimilarity.l2Normalized([3, 4]), [0.6, 0.8])
        XCTAssertEqual(VectorSimilarity.l2Normalized([0, 0]), [0, 0])
    }

    /// Long vectors exercise the SIMD body and the scalar tail of the dot product.
    func testCosineOfLongVectorsAgainstDouble() throws {
        var generator = SystemRandomNumberGenerator()
        for n in [1, 15, 16, 17, 31, 32, 33, 300, 384, 1001] {
            let a = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
            let b = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
            let ab = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let aa = a.reduce(0.0) { $0 + Double($1) * Double($1) }, bb = b.reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(Double(try VectorSimilarity.cosine(a, b)), ab / (aa * bb).squareRoot(), accuracy: 1e-5, "n=\(n)")
        }
    }

    func testSearchReturnsBestFirstWithExclusions() throws {
        let corpus: [[Float]] = [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 5], [-1, 0, 0], [2, 0, 0]]
        let index = try EmbeddingIndex(embeddings: corpus)
        XCTAssertEqual(index.count, 6)
        let hits = try index.search([1, 0.1, 0], top: 3)
        XCTAssertEqual(hits.map(\.index), [0, 5, 2])   // rows 0 and 5 tie: lower index first
        XCTAssertEqual(hits[0].score, Float(1 / (1.01).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(hits[2].score, Float(1.1 / (2 * 1.01).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(try index.search([1, 0, 0], top: 2, excluding: [0, 5]).map(\.index), [2, 1])
        XCTAssertEqual(try index.search([1, 0, 0], top: 10).count, 6)
        XCTAssertEqual(try index.search([1, 0, 0], top: 10).last?.index, 4)
        XCTAssertEqual(try index.scores(for: [0, 0, 1]), [0, 0, 0, 1, 0, 0])
        XCTAssertThrowsError(try index.search([1, 0], top: 1))
        XCTAssertThrowsError(try index.search([1, 0, 0], top: -1))
        XCTAssertThrowsError(try EmbeddingIndex(embeddings: [[1, 2], [1]]))
        XCTAssertThrowsError(try EmbeddingIndex(rows: [1, 2, 3], dimension: 2))
    }
}
