import CDNNL

/// Row-major `C = alpha * op(A) * op(B) + beta * C` through oneDNN's sgemm, which threads with
/// OpenMP on its own. The only place GraftHeads calls into C.
enum Sgemm {
    static func multiply(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) throws(HeadsError) {
        let ta = CChar(UInt8(ascii: transposeA ? "T" : "N"))
        let tb = CChar(UInt8(ascii: transposeB ? "T" : "N"))
        let status = dnnl_sgemm(ta, tb, dnnl_dim_t(m), dnnl_dim_t(n), dnnl_dim_t(k), alpha,
                                a, dnnl_dim_t(lda), b, dnnl_dim_t(ldb), beta, c, dnnl_dim_t(ldc))
        guard status == dnnl_success else {
            throw .gemmFailed(status: Int(status.rawValue), shape: [m, n, k])
        }
    }
}
