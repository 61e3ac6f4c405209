import Foundation

/// A table of word vectors: a contiguous row-major `[Float]` matrix plus a word-to-row lookup.
///
/// Loaders: `loadText` (GloVe, or word2vec text with its `count dim` header), `loadWord2VecBinary`,
/// `loadSpacy` (a spaCy `vocab/` directory), and `load` which picks one by what it finds.
public struct WordVectorTable: Sendable {
    enum Lookup: Sendable {
        case words([String: Int])
        /// spaCy: MurmurHash64A(word) -> row; many keys may share a row.
        case spacyKeys([UInt64: Int])
    }

    /// Length of each vector.
    public let dimension: Int
    /// Number of rows (distinct vectors).
    public let rowCount: Int
    /// `rowCount * dimension` values; row `i` is `matrix[i * dimension ..< (i + 1) * dimension]`.
    public let matrix: [Float]
    /// The word of each row when known. For spaCy, where several keys share a row, the row's own
    /// word (the first key in `key2row` order that maps to it); nil when that key's string is
    /// unknown. Nil altogether when spaCy strings were not loaded.
    public let words: [String?]?
    /// How many words (or spaCy keys) map to a row.
    public let vocabularyCount: Int
    let lookup: Lookup

    init(dimension: Int, matrix: [Float], words: [String?]?, lookup: Lookup) {
        self.dimension = dimension
        self.matrix = matrix
        rowCount = dimension > 0 ? matrix.count / dimension : 0
        self.words = words
        self.lookup = lookup
        switch lookup {
        case let .words(w): vocabularyCount = w.count
        case let .spacyKeys(k): vocabularyCount = k.count
        }
    }

    /// The row of `word` (exact, case-sensitive), or nil when the table does not have it.
    public func row(for word: String) -> Int? {
        switch lookup {
        case let .words(w): return w[word]
        case let .spacyKeys(k): return k[spacyKey(word)]
        }
    }

    /// The vector of `word`, or nil when the table does not have it.
    public func vector(for word: String) -> [Float]? {
        row(for: word).map { Array(vector(atRow: $0)) }
    }

    /// Row `row` of the matrix (no copy).
    public func vector(atRow row: Int) -> ArraySlice<Float> {
        matrix[(row * dimension)..<((row + 1) * dimension)]
    }

    /// Loads `url` by what it is: a directory is a spaCy `vocab/` (or a spaCy model directory that
    /// contains one), a `.bin` file word2vec binary, anything else text (GloVe or word2vec).
    public static func load(_ url: URL) throws -> WordVectorTable {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            let nested = url.appendingPathComponent("vocab")
            let dir = FileManager.default.fileExists(atPath: nested.appendingPathComponent("key2row").path) ? nested : url
            return try loadSpacy(vocabDirectory: dir)
        }
        if url.pathExtension.lowercased() == "bin" { return try loadWord2VecBinary(url) }
        return try loadText(url)
    }
}
