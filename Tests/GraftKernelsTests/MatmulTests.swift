import XCTest
import GraftKernels

/// Batched, transposed matmul with bias, alpha and beta against triple loops.
final class MatmulTests: XCTestCase {
    /// Row-major reference; a transposed operand is stored as its transpose.
    func reference(batch: Int, m: Int, n: Int, k: Int, a: [Float], ta: Bool, b: [Float], tb: Bool,
                   c: [Float], bias: [Float]?, alpha: Float, beta: Float) -> [Float] {
        var out = [Float](repeating: 0, count: batch * m * n)
        for p in 0..<batch { for i in 0..<m { for j in 0..<n {
            var s: Float = 0
            for l in 0..<k {
                let av = ta ? a[p * m * k + l * m + i] : a[p * m * k + i * k + l]
                let bv = tb ? b[p * k * n + j * k + l] : b[p * k * n + l * n + j]
                s += av * bv
            }
            let idx = p * m * n + i * n + j
            out[idx] = alpha * s + (bias?[j] ?? 0) + (beta == 0 ? 0 : beta * c[idx])
        } } }
        return out
    }

    func testTransposesBatchesBiasAndBeta() throws {
        var rng = SeededRandom(seed: 21)
        let shapes = [(1, 5, 7, 3), (3, 4, 6, 9), (2, 33, 17, 65), (1, 1, 1, 1), (1, 64, 80, 48)]
        for (batch, m, n, k) in shapes {
            for ta in [false, true] { for tb in [false, true] {
                for (withBias, alpha, beta) in [(false, Float(1), Float(0)), (true, 1, 0), (false, 1, 1), (true, 0.5, 0.25)] {
                    let a = rng.floats(batch * m * k), b = rng.floats(batch * k * n), bias = rng.floats(n)
                    let initial = rng.floats(batch * m * n)
                    var c = beta == 0 ? output(batch * m * n) : initial
                    try Kernels.matmul(batch: batch, m: m, n: n, k: k, a: a, transposeA: ta, b: b, transposeB: tb, c: &c,
                                   bias: withBias ? bias : nil, alpha: alpha, beta: beta)
                    let expected = reference(batch: batch, m: m, n: n, k: k, a: a, ta: ta, b: b, tb: tb, c: initial,
                                             bias: withBias ? bias : nil, alpha: alpha, beta: beta)
                    assertClose(c, expected, "matmul b\(batch) \(m)x\(n)x\(k) tA \(ta) tB \(tb) bias \(withBias) alpha \(alpha) beta \(beta)")
                }
            } }
        }
    }

    func testEmptyInnerDimensionGivesBias() throws {
        var c = output(6)
        let bias: [Float] = [1, 2, 3]
        let empty: [Float] = [0]
        try Kernels.matmul(m: 2, n: 3, k: 0, a: empty, b: empty, c: &c, bias: bias)
        XCTAssertEqual(c, [1, 2, 3, 1, 2, 3])
    }
}
