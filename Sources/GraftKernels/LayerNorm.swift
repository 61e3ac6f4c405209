import CDNNL

/// Layer norm over the last dim of [rows, cols] (BERT), with gamma and beta.
final class LayerNormPlan: Sendable {
    struct Key: Hashable, Sendable { let rows: Int; let cols: Int; let epsilon: Float; let backward: Bool }

    let primitive: Primitive
    let perColumn: OwnedMemoryDesc
    let perRow: OwnedMemoryDesc

    init(_ key: Key) throws {
        perColumn = OwnedMemoryDesc(try MemoryDesc.tagged([key.cols], dnnl_x))
        perRow = OwnedMemoryDesc(try MemoryDesc.tagged([key.rows], dnnl_x))
        let data = try MemoryDesc.tagged([key.rows, key.cols], dnnl_ab)
        let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
        var fd = dnnl_layer_normalization_desc_t()
        var md = data
        try dnnlCheck(dnnl_layer_normalization_forward_desc_init(&fd, dnnl_forward_training, &md, perRow.pointer, key.epsilon, flags),
                  "layer norm desc \(key)")
        let forward = try Primitive("layer norm \(key)", opDesc: &fd)
        if key.backward {
            var d = dnnl_layer_normalization_desc_t()
            var diff = data
            try dnnlCheck(dnnl_layer_normalization_backward_desc_init(&d, dnnl_backward, &diff, &md, perRow.pointer, key.epsilon, flags),
                      "layer norm backward desc \(key)")
            primitive = try Primitive("layer norm backward \(key)", opDesc: &d, hint: forward)
        } else {
            primitive = forward
        }
    }

    static let cache = PlanCache<Key, LayerNormPlan>()
}

extension Kernels {
    /// dst = (src - mean) / sqrt(variance + epsilon) * gamma + beta per row of
    /// [rows, cols]; writes each row's mean and biased variance for backward.
    public static func layerNormForward(rows: Int, cols: Int, src: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                                        beta: UnsafePointer<Float>, epsilon: Float, dst: UnsafeMutablePointer<Float>,
                                        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) throws {
        guard rows > 0, cols > 0 else { return }
        let key = LayerNormPlan.Key(rows: rows, cols: cols, epsilon: epsilon, backward: false)
        try ExecutionContext.with { context in
            let plan = try LayerNormPlan.cache.plan(key) { try LayerNormPlan(key) }
            let p = plan.primitive
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: dst),
                PrimitiveArgument(role: DNNL_ARG_SCALE, desc: plan.perColumn.pointer, data: gamma),
                PrimitiveArgument(role: DNNL_ARG_SHIFT, desc: plan.perColumn.pointer, data: beta),
                PrimitiveArgument(role: DNNL_ARG_MEAN, desc: plan.perRow.pointer, data: mean),
                PrimitiveArgument(role: DNNL_ARG_VARIANCE, desc: plan.perRow.pointer, data: variance),
            ])
        }
    }

    /// Gradients of layer norm given the per-row statistics its forward wrote.
    /// All outputs are overwritten.
    public static func layerNormBackward(rows: Int, cols: Int, src: UnsafePointer<Float>, diffDst: UnsafePointer<Float>,
                                         gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                         variance: UnsafePointer<Float>, epsilon: Float,
                                         diffSrc: UnsafeMutablePointer<Float>, diffGamma: UnsafeMutablePointer<Float>,
                                         diffBeta: UnsafeMutablePointer<Float>) throws {
        guard rows > 0, cols > 0 else { return }
        let key = LayerNormPlan.Key(rows: rows, cols: cols, epsilon: epsilon, backward: true)
        try ExecutionContext.with { context in
            let plan = try LayerNormPlan.cache.plan(key) { try LayerNormPlan(key) }
            let p = plan.primitive
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_DIFF_DST, desc: p.md(dnnl_query_diff_dst_md), data: diffDst),
                PrimitiveArgument(role: DNNL_ARG_SCALE, desc: plan.perColumn.pointer, data: gamma),
                // oneDNN 2.6 counts the shift as a backward input though it never reads it.
                PrimitiveArgument(role: DNNL_ARG_SHIFT, desc: plan.perColumn.pointer, data: gamma),
                PrimitiveArgument(role: DNNL_ARG_MEAN, desc: plan.perRow.pointer, data: mean),
                PrimitiveArgument(role: DNNL_ARG_VARIANCE, desc: plan.perRow.pointer, data: variance),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SRC, desc: p.md(dnnl_query_diff_src_md), data: diffSrc),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SCALE, desc: plan.perColumn.pointer, data: diffGamma),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SHIFT, desc: plan.perColumn.pointer, data: diffBeta),
            ])
        }
    }
}
