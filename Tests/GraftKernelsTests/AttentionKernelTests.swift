import XCTest
@testable import GraftKernels

/// `Kernels.attention` against softmax(Q K^T * scale + mask) V computed in double precision, on ragged sequences
/// (padded and packed row layouts, key counts below the query count, additive masks with holes), head widths that
/// fill the 16-lane panels and ones that do not, on the CPU's path and on the portable one.
final class AttentionKernelTests: XCTestCase {
    struct Case { let heads: Int; let d: Int; let sequences: [AttentionSequence]; let rows: Int; let masked: Bool }

    func reference(_ qkv: [Float], stride: Int, heads: Int, d: Int, scale: Float, sequences: [AttentionSequence],
                   mask: [Float]?, maskStride: Int, rows: Int) -> [Float] {
        let hidden = heads * d
        var out = [Float](repeating: 0, count: rows * hidden)
        for (s, seq) in sequences.enumerated() {
            for h in 0..<heads {
                for i in 0..<seq.queries {
                    let qi = (seq.offset + i) * stride + h * d
                    var scores = (0..<seq.keys).map { j -> Double in
                        let kj = (seq.offset + j) * stride + hidden + h * d
                        let dot = (0..<d).reduce(0.0) { $0 + Double(qkv[qi + $1]) * Double(qkv[kj + $1]) }
                        return dot * Double(scale) + Double(mask?[s * maskStride + j] ?? 0)
                    }
                    let top = scores.max()!
                    scores = scores.map { Foundation.exp($0 - top) }
                    let sum = scores.reduce(0, +)
                    for t in 0..<d {
                        let v = (0..<seq.keys).reduce(0.0) { $0 + scores[$1] * Double(qkv[(seq.offset + $1) * stride + 2 * hidden + h * d + t]) }
                        out[(seq.offset + i) * hidden + h * d + t] = Float(v / sum)
                    }
                }
            }
        }
        return out
    }

    func check(_ c: Case, seed: UInt64, portable: Bool) throws {
        var random = SeededRandom(seed: seed)
        let hidden = c.heads * c.d, stride = 3 * hidden
        let qkv = random.floats(c.rows * stride, -2, 2)
        let maxKeys = c.sequences.map(\.keys).max() ?? 1
        // A mask with holes: every third key of each sequence pushed far down (not the first key).
        let mask: [Float]? = c.masked ? (0..<(c.sequences.count * maxKeys)).map { $0 % maxKeys % 3 == 2 ? -1e9 : random.float(-1, 1) } : nil
        let scale = 1 / Float(c.d).squareRoot()
        var out = [Float](repeating: .nan, count: c.rows * hidden)
        Kernels.attentionPortableOnly(portable)
        defer { Kernels.attentionPortableOnly(false) }
        try qkv.withUnsafeBufferPointer { q in
            try out.withUnsafeMutableBufferPointer { o in
                if let mask {
                    try mask.withUnsafeBufferPointer { m in
                        try Kernels.attention(query: q.baseAddress!, key: q.baseAddress! + hidden, value: q.baseAddress! + 2 * hidden, rowStride: stride, heads: c.heads, headDim: c.d, scale: scale,
                                              sequences: c.sequences, keyMask: m.baseAddress!, maskStride: maxKeys,
                                              output: o.baseAddress!, outputStride: hidden)
                    }
                } else {
                    try Kernels.attention(query: q.baseAddress!, key: q.baseAddress! + hidden, value: q.baseAddress! + 2 * hidden, rowStride: stride, heads: c.heads, headDim: c.d, scale: scale,
                                          sequences: c.sequences, output: o.baseAddress!, outputStride: hidden)
                }
            }
        }
        let expected = reference(qkv, stride: stride, heads: c.heads, d: c.d, scale: scale, sequences: c.sequences,
                                 mask: mask, maskStride: maxKeys, rows: c.rows)
        // Rows no sequence covers keep what was there (NaN here): compare the covered ones.
        let covered = Set(c.sequences.flatMap { s in (s.offset..<(s.offset + s.queries)) })
        let pick = { (v: [Float]) in covered.sorted().flatMap { r in v[(r * hidden)..<((r + 1) * hidden)] } }
        assertClose(pick(out), pick(expected), tolerance: 2e-6, "attention \(c.heads)x\(c.d) \(c.sequences) \(portable ? "portable" : Kernels.attentionISA)")
        XCTAssertTrue(out.enumerated().allSatisfy { covered.contains($0.offset / hidden) || $0.element.isNaN },
                      "rows outside every sequence are not written")
    }

    func testMatchesDoublePrecisionOnRaggedSequences() throws {
        let cases = [
            // Padded layout: 3 sequences of 70 rows, 70 / 45 / 1 real keys (every query row computed).
            Case(heads: 3, d: 32, sequences: [.init(offset: 0, queries: 70, keys: 70), .init(offset: 70, queries: 70, keys: 45),
                                              .init(offset: 140, queries: 70, keys: 1)], rows: 210, masked: false),
            // Packed layout, with a gap of rows no sequence owns; a head 24 wide (a masked half panel), query blocks past 48.
            Case(heads: 2, d: 24, sequences: [.init(offset: 0, queries: 5, keys: 5), .init(offset: 7, queries: 100, keys: 100),
                                              .init(offset: 107, queries: 17, keys: 17)], rows: 124, masked: false),
            // Additive masks with holes; heads 8 and 40 wide.
            Case(heads: 4, d: 8, sequences: [.init(offset: 0, queries: 9, keys: 9), .init(offset: 9, queries: 33, keys: 20)], rows: 42, masked: true),
            Case(heads: 1, d: 40, sequences: [.init(offset: 0, queries: 51, keys: 51)], rows: 51, masked: true),
        ]
        for (n, c) in cases.enumerated() {
            try check(c, seed: 20 + UInt64(n), portable: false)
            try check(c, seed: 20 + UInt64(n), portable: true)
        }
    }

    func testRefusesSequencesWithoutKeysAndHeadsWiderThanTheRows() {
        var out = [Float](repeating: 0, count: 96)
        let qkv = [Float](repeating: 0, count: 96)
        XCTAssertThrowsError(try Kernels.attention(query: qkv, key: qkv, value: qkv, rowStride: 96, heads: 1, headDim: 32, scale: 1,
                                                   sequences: [.init(offset: 0, queries: 1, keys: 0)], output: &out, outputStride: 32)) { error in
            XCTAssertTrue("\(error)".contains("at least one key"), "\(error)")
        }
        XCTAssertThrowsError(try Kernels.attention(query: qkv, key: qkv, value: qkv, rowStride: 16, heads: 1, headDim: 32, scale: 1,
                                                   sequences: [.init(offset: 0, queries: 1, keys: 1)], output: &out, outputStride: 32)) { error in
            XCTAssertTrue("\(error)".contains("do not fit"), "\(error)")
        }
    }
}
