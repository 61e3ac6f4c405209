import CDNNL

/// Softmax / log-softmax over the last dim of [rows, cols].
final class SoftmaxPlan: Sendable {
    struct Key: Hashable, Sendable { let rows: Int; let cols: Int; let log: Bool; let backward: Bool }

    let primitive: Primitive

    init(_ key: Key) throws {
        let data = try MemoryDesc.tagged([key.rows, key.cols], dnnl_ab)
        let algorithm = key.log ? dnnl_softmax_log : dnnl_softmax_accurate
        var fd = dnnl_softmax_v2_desc_t()
        var s = data, d = data
        try dnnlCheck(dnnl_softmax_v2_forward_desc_init(&fd, dnnl_forward_training, algorithm, &s, &d, 1), "softmax desc \(key)")
        let forward = try Primitive("softmax \(key)", opDesc: &fd)
        if key.backward {
            var bd = dnnl_softmax_v2_desc_t()
            var ds = data, dd = data
            try dnnlCheck(dnnl_softmax_v2_backward_desc_init(&bd, algorithm, &ds, &dd, &d, 1), "softmax backward desc \(key)")
            primitive = try Primitive("softmax backward \(key)", opDesc: &bd, hint: forward)
        } else {
            primitive = forward
        }
    }

    static let cache = PlanCache<Key, SoftmaxPlan>()
}

extension Kernels {
    /// dst = softmax(src) (or log-softmax) over each row of [rows, cols].
    public static func softmaxForward(rows: Int, cols: Int, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
                                      log: Bool = false) throws {
        guard rows > 0, cols > 0 else { return }
        let key = SoftmaxPlan.Key(rows: rows, cols: cols, log: log, backward: false)
        try ExecutionContext.with { context in
            let p = try SoftmaxPlan.cache.plan(key) { try SoftmaxPlan(key) }.primitive
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: dst),
            ])
        }
    }

    /// diffSrc from the forward output `dst` and diffDst (overwritten).
    public static func softmaxBackward(rows: Int, cols: Int, dst: UnsafePointer<Float>, diffDst: UnsafePointer<Float>,
                                       diffSrc: UnsafeMutablePointer<Float>, log: Bool = false) throws {
        guard rows > 0, cols > 0 else { return }
        let key = SoftmaxPlan.Key(rows: rows, cols: cols, log: log, backward: true)
        try ExecutionContext.with { context in
            let p = try SoftmaxPlan.cache.plan(key) { try SoftmaxPlan(key) }.primitive
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: dst),
                PrimitiveArgument(role: DNNL_ARG_DIFF_DST, desc: p.md(dnnl_query_diff_dst_md), data: diffDst),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SRC, desc: p.md(dnnl_query_diff_src_md), data: diffSrc),
            ])
        }
    }
}
