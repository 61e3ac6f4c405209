import CDNNL
import CGraftKernels

/// One argument of a primitive execution: its role, layout and data.
struct PrimitiveArgument {
    let role: Int32
    let desc: UnsafePointer<dnnl_memory_desc_t>
    let data: UnsafeRawPointer
}

/// A created primitive with its descriptor; descriptors queried from it stay
/// valid as long as it lives. Always uses a user-managed scratchpad.
/// `@unchecked`: it holds C handles (not Sendable types) that oneDNN documents as
/// immutable after creation and safe to execute from several threads at once.
final class Primitive: @unchecked Sendable {
    let descriptor: dnnl_primitive_desc_t
    let handle: dnnl_primitive_t
    let scratchpad: UnsafePointer<dnnl_memory_desc_t>
    let scratchpadBytes: Int
    let name: String

    /// Builds from an op descriptor (pointer to a dnnl_*_desc_t).
    /// `outputScales`: per-dimension scales (int8: `mask` names the dims the values vary along).
    /// `zeroPoints`: one common zero point per named argument (int8 asymmetric codes: `DNNL_ARG_SRC` of a convolution).
    convenience init(_ name: String, opDesc: UnsafeRawPointer, postOps: [PostOp] = [], outputScale: Float? = nil,
                     outputScales: OutputScales? = nil, zeroPoints: [ZeroPoint] = [], hint: Primitive? = nil) throws(KernelError) {
        guard let pd = try Primitive.describe(name, opDesc: opDesc, postOps: postOps,
                                              outputScales: outputScales ?? outputScale.map { (0, [$0]) }, zeroPoints: zeroPoints, hint: hint)
        else { throw dnnlError(dnnl_unimplemented, "\(name) descriptor") }
        try self.init(name, descriptor: pd)
    }

    /// Like `init(_:opDesc:...)`, but nil when oneDNN has no implementation for
    /// this configuration (for optional fast paths that fall back to another).
    convenience init?(trying name: String, opDesc: UnsafeRawPointer, postOps: [PostOp] = []) throws(KernelError) {
        guard let pd = try Primitive.describe(name, opDesc: opDesc, postOps: postOps, outputScales: nil, zeroPoints: [], hint: nil) else { return nil }
        try self.init(name, descriptor: pd)
    }

    /// The primitive descriptor, or nil when oneDNN has no implementation; other failures throw.
    private static func describe(_ name: String, opDesc: UnsafeRawPointer, postOps: [PostOp], outputScales: OutputScales?,
                                 zeroPoints: [ZeroPoint], hint: Primitive?) throws(KernelError) -> dnnl_primitive_desc_t? {
        let attr = try makeAttr(postOps: postOps, outputScales: outputScales, zeroPoints: zeroPoints)
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        let status = dnnl_primitive_desc_create(&pd, opDesc, attr, try Runtime.engine(), hint?.descriptor)
        if status == dnnl_unimplemented { return nil }
        try dnnlCheck(status, "\(name) descriptor")
        return pd
    }

    /// `mask` and values of `dnnl_primitive_attr_set_output_scales`.
    typealias OutputScales = (mask: Int32, values: [Float])
    /// A common (mask 0) zero point of one argument (`DNNL_ARG_SRC`, `DNNL_ARG_DST`).
    typealias ZeroPoint = (argument: Int32, value: Int32)

    /// A reorder between two layouts of the same tensor (or, with `outputScales`, a quantizing one:
    /// the values are multiplied by the scales, then rounded and saturated to the destination type).
    /// `zeroPoint` is added to the destination's codes after scaling and rounding.
    convenience init(reorder name: String, from: UnsafePointer<dnnl_memory_desc_t>,
                     to: UnsafePointer<dnnl_memory_desc_t>, outputScales: OutputScales? = nil, zeroPoint: Int32 = 0) throws(KernelError) {
        let attr = try Primitive.makeAttr(postOps: [], outputScales: outputScales,
                                          zeroPoints: zeroPoint != 0 ? [(Int32(DNNL_ARG_DST), zeroPoint)] : [])
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        let engine = try Runtime.engine()
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, attr), "\(name) reorder descriptor")
        try self.init(name, descriptor: pd!)
    }

    /// Takes ownership of `pd` (destroyed here when the primitive cannot be created).
    private init(_ name: String, descriptor pd: dnnl_primitive_desc_t) throws(KernelError) {
        var p: dnnl_primitive_t?
        let status = dnnl_primitive_create(&p, pd)
        guard status == dnnl_success, let p else {
            dnnl_primitive_desc_destroy(pd)
            throw dnnlError(status, "\(name) primitive")
        }
        self.name = name
        descriptor = pd
        handle = p
        scratchpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)
        scratchpadBytes = MemoryDesc.bytes(scratchpad)
    }

    deinit {
        dnnl_primitive_destroy(handle)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// A memory descriptor the primitive chose or expects (src_md, weights_md, ...).
    func md(_ query: dnnl_query_t, _ index: Int32 = 0) -> UnsafePointer<dnnl_memory_desc_t> {
        dnnl_primitive_desc_query_md(descriptor, query, index)
    }

    /// Name of the implementation oneDNN picked (e.g. "brgconv:avx512_core").
    var implementation: String {
        var s: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &s) == dnnl_success, let s else { return "?" }
        return String(cString: s)
    }

    /// Runs synchronously on the context's stream.
    func execute(_ context: ExecutionContext, _ arguments: [PrimitiveArgument]) throws(KernelError) {
        let engine = try Runtime.engine()
        var args: [dnnl_exec_arg_t] = []
        args.reserveCapacity(arguments.count + 1)
        defer { for a in args { dnnl_memory_destroy(a.memory) } }
        func add(_ role: Int32, _ desc: UnsafePointer<dnnl_memory_desc_t>, _ data: UnsafeRawPointer) throws(KernelError) {
            var m: dnnl_memory_t?
            try dnnlCheck(dnnl_memory_create(&m, desc, engine, UnsafeMutableRawPointer(mutating: data)), "\(name) memory")
            args.append(dnnl_exec_arg_t(arg: role, memory: m))
        }
        for a in arguments { try add(a.role, a.desc, a.data) }
        if scratchpadBytes > 0 {
            try add(DNNL_ARG_SCRATCHPAD, scratchpad, context.buffer(.scratchpad, bytes: scratchpadBytes))
        }
        try dnnlCheck(dnnl_primitive_execute(handle, context.stream, Int32(args.count), args), "\(name) execute")
        try dnnlCheck(dnnl_stream_wait(context.stream), "\(name) wait")
    }

    /// Elementwise post-op description (kind plus alpha/beta).
    struct PostOp {
        let algorithm: dnnl_alg_kind_t
        let alpha: Float
        let beta: Float
        /// 0 means an eltwise post-op; otherwise a sum post-op with this scale.
        var sumScale: Float = 0
        /// An eltwise post-op's result is multiplied by this (int8 chains: 1 / the next layer's input scale).
        var eltwiseScale: Float = 1
        /// When set, a binary op (`binary`: add or multiply) with a second tensor of this layout (broadcast over
        /// dims of size 1); its data goes in as `Primitive.postOpArgument(index)`.
        var operand: dnnl_memory_desc_t? = nil
        var binary: dnnl_alg_kind_t = dnnl_binary_add
        /// When set, oneDNN's fused 3x3 depthwise convolution (padding 1) of the result: its s8 weights and f32 bias
        /// come in as `DNNL_ARG_ATTR_POST_OP_DW` arguments, its per-channel output scales here.
        var depthwise: DepthwisePostOp? = nil
    }

    struct DepthwisePostOp {
        let stride: Int
        let outputScales: [Float]
        let destination: dnnl_data_type_t
    }

    /// The execution role of post-op `index`'s second input (DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | SRC_1,
    /// a C macro Swift cannot import).
    static func postOpArgument(_ index: Int) -> Int32 {
        Int32(DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE) * Int32(index + 1) | Int32(DNNL_ARG_SRC_1)
    }

    private static func makeAttr(postOps: [PostOp], outputScales: OutputScales?,
                                 zeroPoints: [ZeroPoint]) throws(KernelError) -> dnnl_primitive_attr_t {
        var a: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&a), "attr create")
        let attr = a!
        do {
            try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "attr scratchpad")
            if !postOps.isEmpty {
                var p: dnnl_post_ops_t?
                try dnnlCheck(dnnl_post_ops_create(&p), "post-ops create")
                defer { dnnl_post_ops_destroy(p) }
                for op in postOps {
                    if let dw = op.depthwise {
                        let count = dnnl_dim_t(dw.outputScales.count)
                        try dnnlCheck(dw.stride == 1
                            ? dnnl_post_ops_append_dw_k3s1p1(p, dnnl_s8, dnnl_f32, dw.destination, count, 1 << 1, dw.outputScales)
                            : dnnl_post_ops_append_dw_k3s2p1(p, dnnl_s8, dnnl_f32, dw.destination, count, 1 << 1, dw.outputScales),
                            "post-op depthwise")
                    } else if var operand = op.operand {
                        try dnnlCheck(dnnl_post_ops_append_binary(p, op.binary, &operand), "post-op binary")
                    } else if op.sumScale != 0 {
                        try dnnlCheck(dnnl_post_ops_append_sum(p, op.sumScale), "post-op sum")
                    } else {
                        try dnnlCheck(dnnl_post_ops_append_eltwise(p, op.eltwiseScale, op.algorithm, op.alpha, op.beta), "post-op eltwise")
                    }
                }
                try dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, p), "attr post-ops")
            }
            if let outputScales {
                try dnnlCheck(dnnl_primitive_attr_set_output_scales(attr, dnnl_dim_t(outputScales.values.count), outputScales.mask,
                                                                    outputScales.values), "attr output scales")
            }
            for z in zeroPoints {
                var value = z.value
                try dnnlCheck(dnnl_primitive_attr_set_zero_points(attr, z.argument, 1, 0, &value), "attr zero point")
            }
        } catch {
            dnnl_primitive_attr_destroy(attr)
            throw error
        }
        return attr
    }
}
