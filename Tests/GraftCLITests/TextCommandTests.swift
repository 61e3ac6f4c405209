import Foundation
import XCTest

/// `graft embed` and `graft similar` against sentence-transformers' own all-MiniLM-L6-v2 vectors
/// (Tests/Fixtures/models/minilm/embeddings.json, made by scripts/fixtures).
final class TextCommandTests: XCTestCase {
    struct Reference: Decodable { let sentences: [String]; let embeddings: [[Float]] }
    /// The first seven non-empty reference sentences and their vectors.
    static let reference: Reference = {
        let url = CLIFixtures.repoRoot.appendingPathComponent("Tests/Fixtures/models/minilm/embeddings.json")
        let all = try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let keep = all.sentences.indices.filter { !all.sentences[$0].isEmpty }.prefix(7)
        return Reference(sentences: keep.map { all.sentences[$0] }, embeddings: keep.map { all.embeddings[$0] })
    }()

    func testEmbedMatchesSentenceTransformers() throws {
        let texts = Array(Self.reference.sentences.prefix(4))
        let run = try Graft.run(["embed", "--json"] + texts)
        XCTAssertExit(run, 0)
        let json = try run.json()
        XCTAssertEqual(json["model"] as? String, "all-minilm-l6-v2")
        XCTAssertEqual(json["dimension"] as? Int, 384)
        XCTAssertEqual(json["count"] as? Int, 4)
        XCTAssertEqual(json["texts"] as? [String], texts)
        let rows = try XCTUnwrap(json["embeddings"] as? [[Double]])
        XCTAssertEqual(rows.count, 4)
        for (row, expected) in zip(rows, Self.reference.embeddings) {
            XCTAssertEqual(row.count, 384)
            XCTAssertLessThanOrEqual(zip(row, expected).map { abs($0 - Double($1)) }.max() ?? 1, 1e-4)
        }

        let text = try Graft.run(["embed", texts[0]])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.hasPrefix("\(texts[0]): ["), text.transcript)
        XCTAssertTrue(text.stdout.contains("(384-d)"), text.transcript)
    }

    func testEmbedFileToNpyAndModelDirectory() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let file = dir.appendingPathComponent("texts.txt")
        try (Self.reference.sentences.prefix(3).joined(separator: "\n") + "\n\n").write(to: file, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("e.npy").path
        // The zoo model's own directory, given as --model DIR --arch bert.
        let modelDir = try minilmDirectory()
        let run = try Graft.run(["embed", "--model", modelDir, "--arch", "bert", "--file", file.path, "--out", out, "--json"])
        XCTAssertExit(run, 0)
        let json = try run.json()
        XCTAssertEqual(json["count"] as? Int, 3, "empty lines are skipped")
        XCTAssertEqual(json["out"] as? String, out)
        XCTAssertNil(json["embeddings"])
        let inspect = try Graft.run(["inspect", out, "--json"]).json()
        let tensor = try XCTUnwrap((inspect["tensors"] as? [[String: Any]])?.first)
        XCTAssertEqual(tensor["shape"] as? [Int], [3, 384])
        XCTAssertEqual(tensor["dtype"] as? String, "F32")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }, [])
    }

    func testEmbedUsageErrors() throws {
        XCTAssertExit(try Graft.run(["embed"]), 64)
        XCTAssertExit(try Graft.run(["embed", "--arch", "gpt", "hello"]), 64)
        let notDir = try Graft.run(["embed", "--model", CLIFixtures.weightsFixtures.appendingPathComponent("tiny.safetensors").path, "hello"])
        XCTAssertExit(notDir, 64)
        XCTAssertTrue(notDir.stderr.contains("directory"), notDir.transcript)
        let unknown = try Graft.run(["embed", "--model", "no-such-model", "hello"])
        XCTAssertExit(unknown, 1)
        XCTAssertTrue(unknown.stderr.contains("all-minilm-l6-v2"), unknown.transcript)
    }

    func testSimilarRanksLikeTheReferenceVectors() throws {
        let ref = Self.reference
        let dir = CLIFixtures.temporaryDirectory()
        let corpus = dir.appendingPathComponent("corpus.txt")
        // Line 2 is empty: skipped, but line numbers count it.
        let lines = [ref.sentences[1], ""] + ref.sentences[2...]
        try lines.joined(separator: "\n").write(to: corpus, atomically: true, encoding: .utf8)
        let run = try Graft.run(["similar", "--corpus", corpus.path, "--top", "3", "--json", ref.sentences[0]])
        XCTAssertExit(run, 0)
        let json = try run.json()
        XCTAssertEqual(json["query"] as? String, ref.sentences[0])
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 3)

        // Expected: cosine similarity of the reference vectors (unit length already).
        let cosine = { (a: [Float], b: [Float]) in zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        let expected = (1..<ref.sentences.count).map { (text: ref.sentences[$0], score: cosine(ref.embeddings[0], ref.embeddings[$0])) }
            .sorted { $0.score > $1.score }.prefix(3)
        XCTAssertEqual(results.compactMap { $0["text"] as? String }, expected.map(\.text))
        for (r, e) in zip(results, expected) { XCTAssertEqual(r["score"] as? Double ?? 0, e.score, accuracy: 5e-4) }
        let lineOf = { (text: String) in lines.firstIndex(of: text)! + 1 }
        XCTAssertEqual(results.compactMap { $0["line"] as? Int }, expected.map { lineOf($0.text) })

        let text = try Graft.run(["similar", "--corpus", corpus.path, "--top", "1", ref.sentences[0]])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.hasSuffix("\(expected[0].text)\n"), text.transcript)

        XCTAssertExit(try Graft.run(["similar", "--corpus", corpus.path, "--top", "0", "x"]), 64)
        XCTAssertExit(try Graft.run(["similar", "x"]), 64)
        let missing = try Graft.run(["similar", "--corpus", dir.appendingPathComponent("none.txt").path, "x"])
        XCTAssertExit(missing, 1)
        XCTAssertTrue(missing.stderr.contains("none.txt"), missing.transcript)
    }

    private func minilmDirectory() throws -> String {
        let doctor = try Graft.run(["doctor", "--json"]).json()
        let entry = try XCTUnwrap((doctor["models"] as? [[String: Any]])?.first { $0["name"] as? String == "all-minilm-l6-v2" })
        return try XCTUnwrap(entry["path"] as? String)
    }
}
