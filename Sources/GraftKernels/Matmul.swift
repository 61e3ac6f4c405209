import CDNNL

/// A matmul primitive for one shape, transpose pattern and epilogue.
final class MatmulPlan: @unchecked Sendable {
    struct Key: Hashable, Sendable {
        let batch: Int, m: Int, n: Int, k: Int
        let transposeA: Bool, transposeB: Bool, bias: Bool
        let alpha: Float, beta: Float
    }

    let primitive: Primitive
    let a: UnsafePointer<dnnl_memory_desc_t>, b: UnsafePointer<dnnl_memory_desc_t>
    let c: UnsafePointer<dnnl_memory_desc_t>, bias: UnsafePointer<dnnl_memory_desc_t>

    init(_ key: Key) {
        let (m, n, k) = (key.m, key.n, key.k)
        let batched = key.batch > 1
        func desc(_ rows: Int, _ cols: Int, transposed: Bool) -> dnnl_memory_desc_t {
            // Row-major [rows, cols]; a transposed operand is stored [cols, rows].
            let inner = transposed ? [1, rows] : [cols, 1]
            return batched
                ? MemoryDesc.strided([key.batch, rows, cols], strides: [rows * cols] + inner)
                : MemoryDesc.strided([rows, cols], strides: inner)
        }
        var ad = desc(m, k, transposed: key.transposeA)
        var bd = desc(k, n, transposed: key.transposeB)
        var cd = desc(m, n, transposed: false)
        var biasd = MemoryDesc.tagged(batched ? [1, 1, n] : [1, n], batched ? dnnl_abc : dnnl_ab)
        var d = dnnl_matmul_desc_t()
        dnnlCheck(withUnsafePointer(to: &biasd) { bp in
            dnnl_matmul_desc_init(&d, &ad, &bd, key.bias ? bp : nil, &cd)
        }, "matmul desc \(key)")
        var postOps: [Primitive.PostOp] = []
        if key.beta != 0 { postOps.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: key.beta)) }
        primitive = Primitive("matmul \(key)", opDesc: &d, postOps: postOps, outputScale: key.alpha == 1 ? nil : key.alpha)
        a = primitive.md(dnnl_query_src_md)
        b = primitive.md(dnnl_query_weights_md)
        c = primitive.md(dnnl_query_dst_md)
        bias = primitive.md(dnnl_query_weights_md, 1)
    }

    static let cache = PlanCache<Key, MatmulPlan>()
}

extension Kernels {
    /// C[b] = alpha * op(A[b]) op(B[b]) (+ bias[n] on every row) + beta * C[b], row-major,
    /// for b in 0..<batch (matrices stored back to back). op(A) is m x k, op(B) k x n;
    /// a transposed operand is stored as its transpose (A as [k, m], B as [n, k]).
    /// With beta == 0, C is only written.
    public static func matmul(batch: Int = 1, m: Int, n: Int, k: Int,
                              a: UnsafePointer<Float>, transposeA: Bool = false,
                              b: UnsafePointer<Float>, transposeB: Bool = false,
                              c: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil,
                              alpha: Float = 1, beta: Float = 0) {
        guard batch > 0, m > 0, n > 0 else { return }
        if k == 0 {
            // An empty product: C = bias + beta * C.
            if beta == 0 { Vector.fill(c, with: 0, count: batch * m * n) } else { Vector.scale(c, by: beta, count: batch * m * n) }
            if let bias { for r in 0..<(batch * m) { Vector.add(UnsafePointer(c + r * n), bias, into: c + r * n, count: n) } }
            return
        }
        // oneDNN scales the bias with alpha; keep it unscaled by adding it afterwards.
        let fusedBias = alpha == 1 ? bias : nil
        let key = MatmulPlan.Key(batch: batch, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                 bias: fusedBias != nil, alpha: alpha, beta: beta)
        ExecutionContext.with { context in
            let plan = MatmulPlan.cache.plan(key) { MatmulPlan(key) }
            var args = [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: plan.a, data: a),
                PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: plan.b, data: b),
                PrimitiveArgument(role: DNNL_ARG_DST, desc: plan.c, data: c),
            ]
            if let fusedBias { args.append(PrimitiveArgument(role: DNNL_ARG_BIAS, desc: plan.bias, data: fusedBias)) }
            plan.primitive.execute(context, args)
        }
        if let bias, fusedBias == nil { Vector.addRow(c, bias, into: c, rows: batch * m, cols: n) }
    }
}
