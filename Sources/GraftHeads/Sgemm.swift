import GraftKernels

/// Row-major `C = alpha * op(A) * op(B) + beta * C` with leading dimensions: the kernels layer's
/// matmul (oneDNN, OpenMP-threaded, one primitive per shape) for real sizes, a plain loop over its
/// dot and axpy on the calling thread for small ones, where waking OpenMP threads costs more than
/// the product (and, on a busy machine, far more).
enum Sgemm {
    /// Products with at most this many multiply-adds run on the calling thread.
    static let smallProduct = 1 << 20

    static func multiply(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) throws(HeadsError) {
        if m * n * k <= smallProduct, transposeA != transposeB {
            if transposeB {
                smallNT(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            } else {
                smallTN(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
            return
        }
        guard m > 0, n > 0 else { return }
        // A row-major [rows, cols] operand with leading dimension ld; a transposed one is stored [cols, rows].
        func layout(_ rows: Int, _ cols: Int, ld: Int, transposed: Bool) -> MatrixLayout {
            MatrixLayout(dims: [rows, cols], strides: transposed ? [1, ld] : [ld, 1])
        }
        do {
            try Kernels.matmul(a: a, layout(m, k, ld: lda, transposed: transposeA),
                               b: b, layout(k, n, ld: ldb, transposed: transposeB),
                               c: c, layout(m, n, ld: ldc, transposed: false),
                               epilogue: MatmulEpilogue(scale: alpha, accumulateScale: beta))
        } catch {
            throw .kernelFailed(shape: [m, n, k], reason: "\(error)")
        }
    }

    /// `C[m, n] = alpha * A[m, k] B[n, k]^T + beta * C`: one dot product per output.
    private static func smallNT(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                let value = alpha * Float(Vector.dot(a + i * lda, b + j * ldb, count: k))
                c[i * ldc + j] = beta == 0 ? value : value + beta * c[i * ldc + j]
            }
        }
    }

    /// `C[m, n] = alpha * A^T B + beta * C` with A stored `[k, m]`, B stored `[k, n]`: rank-1 updates.
    private static func smallTN(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] }
        }
        for l in 0..<k {
            for i in 0..<m {
                let scale = alpha * a[l * lda + i]
                if scale != 0 { Vector.axpy(scale, b + l * ldb, c + i * ldc, count: n) }
            }
        }
    }
}
