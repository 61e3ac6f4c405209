import Foundation
import GraftWeights

/// A word and how similar its vector is to the query.
public struct WordNeighbor: Sendable, Equatable {
    public let word: String
    /// Row of the vector table (several words may share a row in pruned spaCy tables).
    public let row: Int
    /// Cosine similarity with the query.
    public let similarity: Float

    public init(word: String, row: Int, similarity: Float) {
        self.word = word
        self.row = row
        self.similarity = similarity
    }
}

/// Word-vector queries over a `WordVectorTable` (GloVe, word2vec, spaCy/fastText): nearest
/// neighbours, analogies and similarities by cosine. Rows are normalised once at construction.
/// A word the table lacks is a `TextError.outOfVocabulary` naming it, never a zero vector.
///
/// ```swift
/// let vectors = try WordVectors.load(directoryOrFile)
/// try vectors.nearest(to: "roi", count: 10)
/// try vectors.analogy("roi", minus: "homme", plus: "femme")   // reine, ...
/// ```
public struct WordVectors: Sendable {
    public let table: WordVectorTable
    public let index: EmbeddingIndex
    /// The word that names each row in results (from the table); rows without one are never returned.
    public let rowWords: [String?]

    public var dimension: Int { table.dimension }
    public var rowCount: Int { table.rowCount }

    /// Wraps a loaded table; it must name its rows (spaCy tables: load them with their strings).
    public init(table: WordVectorTable) throws {
        guard let words = table.words else {
            throw TextError.invalidArgument(name: "table", reason: "the word-vector table was loaded without its words")
        }
        self.table = table
        self.index = try EmbeddingIndex(rows: table.matrix, dimension: table.dimension)
        self.rowWords = words
    }

    /// Loads GloVe / word2vec text, word2vec `.bin`, or a spaCy `vocab/` directory (see `WordVectorTable.load`).
    public static func load(_ url: URL) throws -> WordVectors {
        try WordVectors(table: WordVectorTable.load(url))
    }

    /// Whether the table has a vector for `word` (exact spelling).
    public func contains(_ word: String) -> Bool { table.row(for: word) != nil }

    /// The row of `word`, or `TextError.outOfVocabulary`.
    public func row(of word: String) throws -> Int {
        guard let row = table.row(for: word) else { throw TextError.outOfVocabulary(word: word) }
        return row
    }

    /// The (unnormalised) vector of `word`.
    public func vector(for word: String) throws -> [Float] {
        Array(table.vector(atRow: try row(of: word)))
    }

    /// Cosine similarity of two words.
    public func similarity(_ first: String, _ second: String) throws -> Float {
        let a = try row(of: first), b = try row(of: second)
        return index.unitRows.withUnsafeBufferPointer { rows in
            VectorSimilarity.dot(rows.baseAddress! + a * dimension, rows.baseAddress! + b * dimension, dimension)
        }
    }

    /// The `count` words closest to `word`, best first, excluding `word`'s own row.
    public func nearest(to word: String, count: Int = 10) throws -> [WordNeighbor] {
        let row = try row(of: word)
        return try nearest(toVector: unitRow(row), count: count, excludingRows: [row])
    }

    /// The `count` words closest to an arbitrary vector of the table's dimension.
    public func nearest(toVector vector: [Float], count: Int = 10, excludingRows: Set<Int> = []) throws -> [WordNeighbor] {
        let hits = try index.search(vector, top: count, excluding: excludingRows) { rowWords[$0] != nil }
        return hits.map { WordNeighbor(word: rowWords[$0.index] ?? "", row: $0.index, similarity: $0.score) }
    }

    /// Words closest to `a - b + c` over unit vectors (3CosAdd, as gensim's `most_similar`),
    /// excluding the rows of the three inputs: `analogy("roi", minus: "homme", plus: "femme")`.
    public func analogy(_ a: String, minus b: String, plus c: String, count: Int = 10) throws -> [WordNeighbor] {
        let ra = try row(of: a), rb = try row(of: b), rc = try row(of: c)
        let va = unitRow(ra), vb = unitRow(rb), vc = unitRow(rc)
        var query = [Float](repeating: 0, count: dimension)
        for i in 0..<dimension { query[i] = va[i] - vb[i] + vc[i] }
        return try nearest(toVector: query, count: count, excludingRows: [ra, rb, rc])
    }

    private func unitRow(_ row: Int) -> [Float] {
        Array(index.unitRows[(row * dimension)..<((row + 1) * dimension)])
    }
}
