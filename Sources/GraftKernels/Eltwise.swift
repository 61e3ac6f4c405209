import CDNNL

/// Standalone activations over a flat array.
final class EltwisePlan: Sendable {
    struct Key: Hashable, Sendable { let activation: Activation; let count: Int; let backward: Bool }

    let primitive: Primitive

    init(_ key: Key) throws {
        let (algorithm, alpha, beta) = key.activation.dnnl
        var data = try MemoryDesc.tagged([key.count], dnnl_x)
        var fd = dnnl_eltwise_desc_t()
        try dnnlCheck(dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, algorithm, &data, alpha, beta), "eltwise desc \(key)")
        let forward = try Primitive("eltwise \(key)", opDesc: &fd)
        if key.backward {
            var bd = dnnl_eltwise_desc_t()
            var diff = data
            try dnnlCheck(dnnl_eltwise_backward_desc_init(&bd, algorithm, &diff, &data, alpha, beta), "eltwise backward desc \(key)")
            primitive = try Primitive("eltwise backward \(key)", opDesc: &bd, hint: forward)
        } else {
            primitive = forward
        }
    }

    static let cache = PlanCache<Key, EltwisePlan>()
}

extension Kernels {
    /// dst[i] = a(src[i]); dst may be src.
    public static func eltwiseForward(_ a: Activation, count: Int, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) throws {
        guard count > 0 else { return }
        let key = EltwisePlan.Key(activation: a, count: count, backward: false)
        try ExecutionContext.with { context in
            let p = try EltwisePlan.cache.plan(key) { try EltwisePlan(key) }.primitive
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: dst),
            ])
        }
    }

    /// diffSrc[i] = a'(src[i]) * diffDst[i], the gradient w.r.t. the forward input.
    public static func eltwiseBackward(_ a: Activation, count: Int, src: UnsafePointer<Float>, diffDst: UnsafePointer<Float>,
                                       diffSrc: UnsafeMutablePointer<Float>) throws {
        guard count > 0 else { return }
        let key = EltwisePlan.Key(activation: a, count: count, backward: true)
        try ExecutionContext.with { context in
            let p = try EltwisePlan.cache.plan(key) { try EltwisePlan(key) }.primitive
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_DIFF_DST, desc: p.md(dnnl_query_diff_dst_md), data: diffDst),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SRC, desc: p.md(dnnl_query_diff_src_md), data: diffSrc),
            ])
        }
    }
}
