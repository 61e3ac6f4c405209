import GraftKernels

/// Cosine similarity and normalisation of `[Float]` embeddings (sentence or word vectors).
public enum VectorSimilarity {
    /// Cosine of the angle between `a` and `b`; 0 when either is the zero vector.
    public static func cosine(_ a: [Float], _ b: [Float]) throws -> Float {
        guard a.count == b.count else {
            throw TextError.shapeMismatch(what: "cosine of two vectors", expected: [a.count], got: [b.count])
        }
        let ab = dot(a, b), aa = dot(a, a), bb = dot(b, b)
        guard aa > 0, bb > 0 else { return 0 }
        return ab / (aa.squareRoot() * bb.squareRoot())
    }

    /// `v / |v|`; the zero vector stays zero.
    public static func l2Normalized(_ v: [Float]) -> [Float] {
        var out = v
        out.withUnsafeMutableBufferPointer { normalize($0) }
        return out
    }

    /// Normalises every row of a row-major `[rows, dimension]` matrix in place.
    public static func normalizeRows(_ matrix: inout [Float], dimension: Int) throws {
        guard dimension > 0, matrix.count % dimension == 0 else {
            throw TextError.shapeMismatch(what: "matrix of rows", expected: [-1, dimension], got: [matrix.count])
        }
        matrix.withUnsafeMutableBufferPointer { m in
            for r in 0..<(m.count / dimension) {
                normalize(UnsafeMutableBufferPointer(rebasing: m[(r * dimension)..<((r + 1) * dimension)]))
            }
        }
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in dot(pa.baseAddress!, pb.baseAddress!, pa.count) } }
    }

    static func normalize(_ v: UnsafeMutableBufferPointer<Float>) {
        guard let base = v.baseAddress else { return }
        let norm = dot(base, base, v.count).squareRoot()
        guard norm > 0 else { return }
        let inverse = 1 / norm
        for i in v.indices { v[i] *= inverse }
    }

    /// `sum a[i] * b[i]` over `count` floats, on the kernels layer's dot.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        Float(Vector.dot(a, b, count: count))
    }
}
