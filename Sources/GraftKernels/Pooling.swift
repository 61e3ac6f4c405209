import CDNNL
import Synchronization

/// Pooling kinds, with PyTorch's two average-pool padding conventions.
public enum PoolKind: Hashable, Sendable {
    case max
    /// Divides by the full window (PyTorch count_include_pad=True).
    case averageIncludingPadding
    /// Divides by the in-bounds part of the window (count_include_pad=False).
    case averageExcludingPadding

    var algorithm: dnnl_alg_kind_t {
        switch self {
        case .max: dnnl_pooling_max
        case .averageIncludingPadding: dnnl_pooling_avg_include_padding
        case .averageExcludingPadding: dnnl_pooling_avg_exclude_padding
        }
    }
}

/// What max-pool backward needs from the forward pass (the argmax positions,
/// in oneDNN's own encoding). Pass the same instance to forward and backward.
public final class PoolWorkspace: Sendable {
    private let buffer = Mutex<AlignedBuffer?>(nil)

    public init() {}

    func pointer(bytes: Int) throws -> UnsafeMutableRawPointer {
        try buffer.withLock { b in
            if let existing = b, existing.bytes >= bytes { return existing.pointer }
            b = nil
            let fresh = try AlignedBuffer(bytes: bytes, for: "max-pool workspace")
            b = fresh
            return fresh.pointer
        }
    }

    var filled: UnsafeMutableRawPointer? { buffer.withLock { $0?.pointer } }
}

final class PoolPlan: Sendable {
    struct Key: Hashable, Sendable { let geometry: Pool2DGeometry; let kind: PoolKind; let backward: Bool; let training: Bool }

    let primitive: Primitive
    let workspaceBytes: Int

    init(_ key: Key) throws {
        let g = key.geometry
        let src = try MemoryDesc.tagged([g.batch, g.channels, g.height, g.width], dnnl_nhwc)
        let dst = try MemoryDesc.tagged([g.batch, g.channels, g.outHeight, g.outWidth], dnnl_nhwc)
        let strides: [dnnl_dim_t] = [dnnl_dim_t(g.strideH), dnnl_dim_t(g.strideW)]
        let kernel: [dnnl_dim_t] = [dnnl_dim_t(g.kernelH), dnnl_dim_t(g.kernelW)]
        let dilation: [dnnl_dim_t] = [0, 0]
        let padL: [dnnl_dim_t] = [dnnl_dim_t(g.padTop), dnnl_dim_t(g.padLeft)]
        let padR: [dnnl_dim_t] = [dnnl_dim_t(g.padBottom), dnnl_dim_t(g.padRight)]
        func forward(_ prop: dnnl_prop_kind_t) throws -> Primitive {
            var d = dnnl_pooling_v2_desc_t()
            var s = src, o = dst
            try dnnlCheck(dnnl_pooling_v2_forward_desc_init(&d, prop, key.kind.algorithm, &s, &o, strides, kernel, dilation, padL, padR),
                      "\(g) forward desc")
            return try Primitive("\(g) forward", opDesc: &d)
        }
        if key.backward {
            let hint = try forward(dnnl_forward_training)
            var d = dnnl_pooling_v2_desc_t()
            var s = src, o = dst
            try dnnlCheck(dnnl_pooling_v2_backward_desc_init(&d, key.kind.algorithm, &s, &o, strides, kernel, dilation, padL, padR),
                      "\(g) backward desc")
            primitive = try Primitive("\(g) backward", opDesc: &d, hint: hint)
        } else {
            primitive = try forward(key.training ? dnnl_forward_training : dnnl_forward_inference)
        }
        workspaceBytes = MemoryDesc.bytes(primitive.md(dnnl_query_workspace_md))
    }

    static let cache = PlanCache<Key, PoolPlan>()

    static func get(_ key: Key) throws -> PoolPlan {
        let g = key.geometry
        guard g.batch > 0, g.channels > 0, g.kernelH > 0, g.kernelW > 0, g.strideH > 0, g.strideW > 0,
              g.outHeight > 0, g.outWidth > 0 else {
            throw KernelError.invalidArguments(primitive: "pooling", reason: "invalid geometry \(g)")
        }
        return try cache.plan(key) { try PoolPlan(key) }
    }
}

extension Kernels {
    /// Pools NHWC src into NHWC dst. For max pooling, pass a workspace when a
    /// backward pass will follow (it records the argmax positions).
    public static func pool2dForward(kind: PoolKind, geometry g: Pool2DGeometry, src: UnsafePointer<Float>,
                                     dst: UnsafeMutablePointer<Float>, workspace: PoolWorkspace? = nil) throws {
        let training = kind == .max && workspace != nil
        try ExecutionContext.with { context in
            let plan = try PoolPlan.get(.init(geometry: g, kind: kind, backward: false, training: training))
            let p = plan.primitive
            var args = [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: dst),
            ]
            if training, plan.workspaceBytes > 0, let workspace {
                args.append(PrimitiveArgument(role: DNNL_ARG_WORKSPACE, desc: p.md(dnnl_query_workspace_md),
                                              data: try workspace.pointer(bytes: plan.workspaceBytes)))
            }
            try p.execute(context, args)
        }
    }

    /// diffSrc (NHWC, overwritten) from diffDst. Max pooling needs the workspace
    /// its forward pass filled.
    public static func pool2dBackward(kind: PoolKind, geometry g: Pool2DGeometry, diffDst: UnsafePointer<Float>,
                                      diffSrc: UnsafeMutablePointer<Float>, workspace: PoolWorkspace? = nil) throws {
        try ExecutionContext.with { context in
            let plan = try PoolPlan.get(.init(geometry: g, kind: kind, backward: true, training: true))
            let p = plan.primitive
            var args = [
                PrimitiveArgument(role: DNNL_ARG_DIFF_DST, desc: p.md(dnnl_query_diff_dst_md), data: diffDst),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SRC, desc: p.md(dnnl_query_diff_src_md), data: diffSrc),
            ]
            if plan.workspaceBytes > 0 {
                guard let ws = workspace?.filled else {
                    throw KernelError.invalidArguments(primitive: "max-pool backward \(g)",
                                                       reason: "needs the workspace its forward pass filled")
                }
                args.append(PrimitiveArgument(role: DNNL_ARG_WORKSPACE, desc: p.md(dnnl_query_workspace_md), data: ws))
            }
            try p.execute(context, args)
        }
    }
}
