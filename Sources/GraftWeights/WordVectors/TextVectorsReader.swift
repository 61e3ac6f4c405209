import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension WordVectorTable {
    /// Reads GloVe text (`word v1 ... vd` per line) or word2vec text (the same after a
    /// `count dim` line). The dimension comes from the header or the first line; every line must
    /// have it. Words with spaces are kept (all leading tokens but the last `dimension`).
    /// A repeated word keeps its first row.
    public static func loadText(_ url: URL) throws -> WordVectorTable {
        let storage = try ByteStorage.map(url)
        return try readText(storage, file: url.path)
    }

    static func readText(_ storage: ByteStorage, file: String) throws -> WordVectorTable {
        let bytes = storage.buffer
        var lineStart = 0, lineNumber = 0
        var dimension = 0
        var matrix: [Float] = []
        var wordRows: [String: Int] = [:]
        var words: [String?] = []
        var tokens: [Range<Int>] = []
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            lineNumber += 1
            defer { lineStart = lineEnd + 1 }
            tokens.removeAll(keepingCapacity: true)
            var i = lineStart
            while i < lineEnd {
                while i < lineEnd, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D { i += 1 }
                let s = i
                while i < lineEnd, bytes[i] != 0x20, bytes[i] != 0x09, bytes[i] != 0x0D { i += 1 }
                if i > s { tokens.append(s..<i) }
            }
            if tokens.isEmpty { continue }
            func malformed(_ why: String) -> WeightsError {
                .malformed(file: file, offset: lineStart, context: "word vectors line \(lineNumber)", reason: why)
            }
            if dimension == 0 {
                if lineNumber == 1, tokens.count == 2, let c = Int(ascii(bytes, tokens[0])), let d = Int(ascii(bytes, tokens[1])) {
                    // word2vec text header: reserve no more than the file could hold (2 bytes per value at least).
                    guard c >= 0, d > 0 else { throw malformed("header '\(c) \(d)' is not a count and a dimension") }
                    dimension = d
                    let (cells, overflow) = c.multipliedReportingOverflow(by: d)
                    matrix.reserveCapacity(overflow ? 0 : min(cells, bytes.count / 2))
                    continue
                }
                guard tokens.count >= 2 else { throw malformed("a word needs at least one value") }
                dimension = tokens.count - 1
            }
            guard tokens.count > dimension else { throw malformed("\(tokens.count - 1) values, expected \(dimension)") }
            let wordTokens = tokens[0..<(tokens.count - dimension)]
            let word = String(decoding: bytes[wordTokens.first!.lowerBound..<wordTokens.last!.upperBound], as: UTF8.self)
            for t in tokens[(tokens.count - dimension)...] {
                guard let v = parseFloat(bytes, t) else { throw malformed("'\(ascii(bytes, t))' is not a number") }
                matrix.append(v)
            }
            let row = words.count
            words.append(word)
            if wordRows[word] == nil { wordRows[word] = row }
        }
        guard dimension > 0 else { throw WeightsError.malformed(file: file, offset: 0, context: "word vectors", reason: "no vectors") }
        return WordVectorTable(dimension: dimension, matrix: matrix, words: words, lookup: .words(wordRows))
    }

    private static func ascii(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> String {
        String(decoding: b[r.lowerBound..<min(r.upperBound, r.lowerBound + 64)], as: UTF8.self)
    }

    /// strtof on a copy of the token; the whole token must be consumed.
    private static func parseFloat(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> Float? {
        guard r.count < 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buf -> Float? in
            for (j, i) in r.enumerated() { buf[j] = CChar(bitPattern: b[i]) }
            buf[r.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let v = strtof(buf.baseAddress!, &end)
            guard let end, end - buf.baseAddress! == r.count else { return nil }
            return v
        }
    }
}
