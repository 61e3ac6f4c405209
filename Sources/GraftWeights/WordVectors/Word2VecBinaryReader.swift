import Foundation

extension WordVectorTable {
    /// Reads the word2vec binary format: an ASCII `count dim` line, then per word its UTF-8
    /// bytes, a space, and `dim` little-endian float32 values (optionally followed by a newline).
    public static func loadWord2VecBinary(_ url: URL) throws -> WordVectorTable {
        try readWord2VecBinary(try ByteStorage.map(url), file: url.path)
    }

    static func readWord2VecBinary(_ storage: ByteStorage, file: String) throws -> WordVectorTable {
        var r = ByteReader(storage, file: file)
        func token(_ context: String) throws -> String {
            while let b = r.peek(), b == 0x20 || b == 0x0A || b == 0x0D { r.position += 1 }
            let start = r.position
            while let b = r.peek(), b != 0x20, b != 0x0A {
                r.position += 1
                if r.position - start > 1000 { throw r.malformed("word2vec binary", "\(context) longer than 1000 bytes", at: start) }
            }
            guard r.position > start else { throw WeightsError.truncated(file: file, offset: start, needed: 1, context: context) }
            return String(decoding: r.bytes(start..<r.position), as: UTF8.self)
        }
        let countText = try token("word2vec binary header"), dimText = try token("word2vec binary header")
        guard let count = Int(countText), let dim = Int(dimText), count >= 0, dim > 0 else {
            throw r.malformed("word2vec binary header", "'\(countText) \(dimText)' is not a count and a dimension", at: 0)
        }
        // Each record is at least a one-byte word, a space and dim floats: check before allocating.
        let (perRecord, o1) = dim.multipliedReportingOverflow(by: 4)
        let (total, o2) = (perRecord + 2).multipliedReportingOverflow(by: count)
        guard !o1, !o2, total <= r.remaining else {
            throw WeightsError.sizeExceedsFile(file: file, context: "word2vec binary: \(count) words x \(dim) floats",
                                               declared: o1 || o2 ? UInt64.max : UInt64(total), available: r.remaining)
        }
        var matrix = [Float](repeating: 0, count: count * dim)
        var words: [String?] = []
        words.reserveCapacity(count)
        var wordRows: [String: Int] = [:]
        for row in 0..<count {
            let word = try token("word \(row)")
            try r.skip(1, "space after word '\(word)'")
            let range = try r.take(perRecord, "vector of '\(word)'")
            matrix.withUnsafeMutableBytes { out in
                out.baseAddress!.advanced(by: row * perRecord).copyMemory(from: r.bytes(range).baseAddress!, byteCount: perRecord)
            }
            words.append(word)
            if wordRows[word] == nil { wordRows[word] = row }
        }
        return WordVectorTable(dimension: dim, matrix: matrix, words: words, lookup: .words(wordRows))
    }
}
