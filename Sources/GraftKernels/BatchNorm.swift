import CDNNL

/// Batch norm over [rows, channels] (NHWC flattened), viewed by oneDNN as an
/// NHWC tensor [n, channels, rows / n, 1] so its channels-last kernels run.
/// oneDNN splits work over the batch dim, so n matters: with n = 1 its kernels
/// run up to 10x slower (see `batchDim`).
final class BatchNormPlan: Sendable {
    enum Kind: Hashable, Sendable { case training, inference(fusedReLU: Bool), backward }
    struct Key: Hashable, Sendable { let rows: Int; let channels: Int; let epsilon: Float; let kind: Kind }

    let primitive: Primitive
    /// Layout of every per-channel vector (scale, shift, mean, variance and their gradients).
    let perChannel: OwnedMemoryDesc

    init(_ key: Key) throws {
        perChannel = OwnedMemoryDesc(try MemoryDesc.tagged([key.channels], dnnl_x))
        let n = Self.batchDim(rows: key.rows)
        let data = try MemoryDesc.tagged([n, key.channels, key.rows / n, 1], dnnl_nhwc)
        let affine = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
        func forward(_ prop: dnnl_prop_kind_t, _ flags: UInt32) throws -> Primitive {
            var d = dnnl_batch_normalization_desc_t()
            var md = data
            try dnnlCheck(dnnl_batch_normalization_forward_desc_init(&d, prop, &md, key.epsilon, flags), "batch norm desc \(key)")
            return try Primitive("batch norm \(key)", opDesc: &d)
        }
        switch key.kind {
        case .training:
            primitive = try forward(dnnl_forward_training, affine)
        case let .inference(fusedReLU):
            primitive = try forward(dnnl_forward_inference,
                                affine | dnnl_use_global_stats.rawValue | (fusedReLU ? dnnl_fuse_norm_relu.rawValue : 0))
        case .backward:
            let hint = try forward(dnnl_forward_training, affine)
            var d = dnnl_batch_normalization_desc_t()
            var md = data, diff = data
            try dnnlCheck(dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &diff, &md, key.epsilon, affine),
                      "batch norm backward desc \(key)")
            primitive = try Primitive("batch norm backward \(key)", opDesc: &d, hint: hint)
        }
    }

    static let cache = PlanCache<Key, BatchNormPlan>()

    /// The divisor of rows closest to `preferredBatch` (rows = N*H*W of the caller's tensor).
    static func batchDim(rows: Int, preferredBatch: Int = 32) -> Int {
        var best = 1
        for d in 1...max(1, min(rows, 4 * preferredBatch)) where rows % d == 0 {
            if abs(d - preferredBatch) < abs(best - preferredBatch) { best = d }
        }
        return best
    }
}

extension Kernels {
    /// Batch norm over [rows, channels]. Training computes the batch mean and the
    /// biased variance into `mean` / `variance` and normalises with them (as
    /// PyTorch does; the caller turns them into running statistics). Inference
    /// reads `mean` / `variance`. `activation` is applied to the output (ReLU is
    /// fused into the primitive at inference).
    public static func batchNormForward(rows: Int, channels: Int, src: UnsafePointer<Float>,
                                        scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                                        training: Bool, epsilon: Float, dst: UnsafeMutablePointer<Float>,
                                        activation: Activation? = nil) throws {
        guard rows > 0, channels > 0 else { return }
        let fuse = !training && activation == .relu
        let kind: BatchNormPlan.Kind = training ? .training : .inference(fusedReLU: fuse)
        let key = BatchNormPlan.Key(rows: rows, channels: channels, epsilon: epsilon, kind: kind)
        try ExecutionContext.with { context in
            let plan = try BatchNormPlan.cache.plan(key) { try BatchNormPlan(key) }
            let p = plan.primitive, data = p.md(dnnl_query_src_md), perChannel = plan.perChannel.pointer
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: data, data: src),
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: dst),
                PrimitiveArgument(role: DNNL_ARG_SCALE, desc: perChannel, data: scale),
                PrimitiveArgument(role: DNNL_ARG_SHIFT, desc: perChannel, data: shift),
                PrimitiveArgument(role: DNNL_ARG_MEAN, desc: perChannel, data: mean),
                PrimitiveArgument(role: DNNL_ARG_VARIANCE, desc: perChannel, data: variance),
            ])
        }
        if let activation, !fuse { try eltwiseForward(activation, count: rows * channels, src: dst, dst: dst) }
    }

    /// Gradients of training-mode batch norm, given the batch mean / biased
    /// variance its forward pass returned. All outputs are overwritten.
    public static func batchNormBackward(rows: Int, channels: Int, src: UnsafePointer<Float>, diffDst: UnsafePointer<Float>,
                                         scale: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                         variance: UnsafePointer<Float>, epsilon: Float,
                                         diffSrc: UnsafeMutablePointer<Float>, diffScale: UnsafeMutablePointer<Float>,
                                         diffShift: UnsafeMutablePointer<Float>) throws {
        guard rows > 0, channels > 0 else { return }
        let key = BatchNormPlan.Key(rows: rows, channels: channels, epsilon: epsilon, kind: .backward)
        try ExecutionContext.with { context in
            let plan = try BatchNormPlan.cache.plan(key) { try BatchNormPlan(key) }
            let p = plan.primitive, data = p.md(dnnl_query_src_md), perChannel = plan.perChannel.pointer
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: data, data: src),
                PrimitiveArgument(role: DNNL_ARG_DIFF_DST, desc: p.md(dnnl_query_diff_dst_md), data: diffDst),
                PrimitiveArgument(role: DNNL_ARG_SCALE, desc: perChannel, data: scale),
                // oneDNN 2.6 counts the shift as a backward input though it never reads it.
                PrimitiveArgument(role: DNNL_ARG_SHIFT, desc: perChannel, data: scale),
                PrimitiveArgument(role: DNNL_ARG_MEAN, desc: perChannel, data: mean),
                PrimitiveArgument(role: DNNL_ARG_VARIANCE, desc: perChannel, data: variance),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SRC, desc: p.md(dnnl_query_diff_src_md), data: diffSrc),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SCALE, desc: perChannel, data: diffScale),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SHIFT, desc: perChannel, data: diffShift),
            ])
        }
    }
}
