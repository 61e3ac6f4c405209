import CDNNL

/// Row-major `C = alpha * op(A) * op(B) + beta * C`: oneDNN's sgemm (OpenMP-threaded) for real
/// sizes, a plain single-threaded loop for small ones, where waking OpenMP threads costs more than
/// the product (and, on a busy machine, far more). The only place GraftHeads calls into C.
enum Sgemm {
    /// Products with at most this many multiply-adds run in Swift on the calling thread.
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
        let ta = CChar(UInt8(ascii: transposeA ? "T" : "N"))
        let tb = CChar(UInt8(ascii: transposeB ? "T" : "N"))
        let status = dnnl_sgemm(ta, tb, dnnl_dim_t(m), dnnl_dim_t(n), dnnl_dim_t(k), alpha,
                                a, dnnl_dim_t(lda), b, dnnl_dim_t(ldb), beta, c, dnnl_dim_t(ldc))
        guard status == dnnl_success else {
            throw .gemmFailed(status: Int(status.rawValue), shape: [m, n, k])
        }
    }

    /// `C[m, n] = alpha * A[m, k] B[n, k]^T + beta * C`: one dot product per output.
    private static func smallNT(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                let value = alpha * VectorKernels.dot(a + i * lda, b + j * ldb, k)
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
                if scale != 0 { VectorKernels.axpy(scale, b + l * ldb, c + i * ldc, n) }
            }
        }
    }
}
