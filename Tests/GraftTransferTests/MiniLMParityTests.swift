import GraftModels
import Foundation
import GraftTensor
import GraftTransfer
import XCTest

/// all-MiniLM-L6-v2 from the package files against sentence-transformers on
/// the same files (fixtures/models/make_minilm.py): token ids identical,
/// cosine >= 0.9999 and max abs diff <= 1e-4 for every sentence.
final class MiniLMParityTests: XCTestCase {
    struct Reference: Decodable { let sentences: [String]; let ids: [[Int32]]; let embeddings: [[Float]] }

    func testEmbeddingsMatchSentenceTransformers() throws {
        let url = FixturePaths.fixtures.appendingPathComponent("models/minilm/embeddings.json")
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let embedder = try SentenceEmbedder.pretrained()
        for (s, ids) in zip(ref.sentences, ref.ids) {
            XCTAssertEqual(embedder.tokenizer.encode(s, maxLength: 256), ids, "token ids of \"\(s)\"")
        }
        let e = try embedder.embed(ref.sentences, batchSize: 4)
        XCTAssertEqual(e.shape, [ref.sentences.count, 384])
        for (i, expected) in ref.embeddings.enumerated() {
            let row = Array(e.values[(i * 384)..<((i + 1) * 384)])
            let dot = zip(row, expected).reduce(0) { $0 + $1.0 * $1.1 }
            let norms = (row.reduce(0) { $0 + $1 * $1 } * expected.reduce(0) { $0 + $1 * $1 }).squareRoot()
            XCTAssertGreaterThanOrEqual(dot / norms, 0.9999, "cosine of sentence \(i)")
            let diff = zip(row, expected).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(diff, 1e-4, "max abs diff of sentence \(i): \(diff)")
        }
    }

    /// `embed` batches by token count (what padding costs), shortest first, ties in input order; a batch of at least
    /// `minimumBatch` closes early where the next text would pad it past `maxPadding`.
    func testBatchesGroupTextsByTokenCount() {
        XCTAssertEqual(SentenceEmbedder.lengthOrderedBatches([5, 30, 6, 29, 5, 31], batchSize: 2), [[0, 4], [2, 3], [1, 5]])
        XCTAssertEqual(SentenceEmbedder.lengthOrderedBatches([3, 2, 1], batchSize: 8), [[2, 1, 0]])
        XCTAssertEqual(SentenceEmbedder.lengthOrderedBatches([], batchSize: 4), [])
        // Uniform lengths: full batches. Ragged: 2 x 10 then 2 x 40 would pad 2.0x in one batch, so it splits.
        XCTAssertEqual(SentenceEmbedder.lengthOrderedBatches(Array(repeating: 32, count: 5), batchSize: 4), [[0, 1, 2, 3], [4]])
        XCTAssertEqual(SentenceEmbedder.lengthOrderedBatches([40, 10, 40, 10], batchSize: 4, minimumBatch: 2), [[1, 3], [0, 2]])
        XCTAssertEqual(SentenceEmbedder.lengthOrderedBatches([40, 10, 40, 10], batchSize: 4, minimumBatch: 4), [[1, 3, 0, 2]],
                       "a batch below the minimum does not close")
        XCTAssertEqual(SentenceEmbedder.lengthOrderedBatches([10, 11, 12, 13], batchSize: 4, minimumBatch: 1), [[0, 1, 2, 3]],
                       "padding within 1.25x keeps one batch")
    }
}
