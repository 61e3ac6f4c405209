extension Kernels {
    /// C[b] = alpha * op(A[b]) op(B[b]) (+ bias[n] on every row) + beta * C[b], row-major,
    /// for b in 0..<batch (matrices stored back to back). op(A) is m x k, op(B) k x n;
    /// a transposed operand is stored as its transpose (A as [k, m], B as [n, k]).
    /// With beta == 0, C is only written. The dense case of the strided matmul below.
    public static func matmul(batch: Int = 1, m: Int, n: Int, k: Int,
                              a: UnsafePointer<Float>, transposeA: Bool = false,
                              b: UnsafePointer<Float>, transposeB: Bool = false,
                              c: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil,
                              alpha: Float = 1, beta: Float = 0) throws {
        guard batch > 0, m > 0, n > 0 else { return }
        if k == 0 {
            // An empty product: C = bias + beta * C.
            if beta == 0 { Vector.fill(c, with: 0, count: batch * m * n) } else { Vector.scale(c, by: beta, count: batch * m * n) }
            if let bias { Vector.addRow(c, bias, into: c, rows: batch * m, cols: n) }
            return
        }
        // Row-major [rows, cols]; a transposed operand is stored [cols, rows].
        func layout(_ rows: Int, _ cols: Int, transposed: Bool) -> MatrixLayout {
            let inner = transposed ? [1, rows] : [cols, 1]
            return batch > 1 ? MatrixLayout(dims: [batch, rows, cols], strides: [rows * cols] + inner)
                             : MatrixLayout(dims: [rows, cols], strides: inner)
        }
        // oneDNN scales the bias with alpha; keep it unscaled by adding it afterwards.
        let fusedBias = alpha == 1 ? bias : nil
        try matmul(a: a, layout(m, k, transposed: transposeA), b: b, layout(k, n, transposed: transposeB),
               c: c, layout(m, n, transposed: false), bias: fusedBias,
               epilogue: MatmulEpilogue(scale: alpha, accumulateScale: beta))
        if let bias, fusedBias == nil { Vector.addRow(c, bias, into: c, rows: batch * m, cols: n) }
    }
}
