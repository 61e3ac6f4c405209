import CDNNL

/// Dims and element strides of one operand of a batched matmul: [batch..., rows, cols], rank 2 to 4.
/// Lets a product read heads straight out of a packed [B, L, 3, heads, d] projection and write its
/// result into [B, L, heads, d] without the two permute copies attention would otherwise need.
public struct MatrixLayout: Hashable, Sendable {
    public var dims: [Int]
    public var strides: [Int]

    public init(dims: [Int], strides: [Int]) {
        precondition(dims.count == strides.count && (2...4).contains(dims.count), "matrix layout \(dims) \(strides)")
        self.dims = dims
        self.strides = strides
    }

    /// Row-major and dense.
    public static func contiguous(_ dims: [Int]) -> MatrixLayout {
        var strides = [Int](repeating: 1, count: dims.count)
        for i in stride(from: dims.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * dims[i + 1] }
        return MatrixLayout(dims: dims, strides: strides)
    }
}

/// What runs on a matmul's result inside the same primitive (oneDNN attributes and post-ops):
/// `dst = act(scale * (A B + bias) + accumulateScale * dst + addend)`.
public struct MatmulEpilogue: Hashable, Sendable {
    /// Output scale (attention's 1 / sqrt(d)). Applies to the bias too, so use one or the other.
    public var scale: Float = 1
    /// Dims of a tensor added elementwise, broadcast over its dims of size 1 (an additive attention mask).
    public var addendDims: [Int]? = nil
    public var activation: Activation? = nil
    /// Nonzero: add this multiple of what `dst` holds (1 for a residual connection) instead of
    /// overwriting it (a oneDNN sum post-op).
    public var accumulateScale: Float = 0

    public init(scale: Float = 1, addendDims: [Int]? = nil, activation: Activation? = nil, accumulateScale: Float = 0) {
        self.scale = scale; self.addendDims = addendDims; self.activation = activation; self.accumulateScale = accumulateScale
    }
}

/// A matmul primitive for one set of strided operands and one epilogue.
final class StridedMatmulPlan: Sendable {
    struct Key: Hashable, Sendable {
        let a: MatrixLayout, b: MatrixLayout, c: MatrixLayout
        let bias: Bool
        let epilogue: MatmulEpilogue
        /// Let oneDNN pick B's layout (a cached, reordered copy of a weight).
        let prepackB: Bool
        /// bf16: A and B are multiplied in bf16 (converted from the caller's fp32), C stays fp32.
        var precision: Precision = .fp32
    }

    let primitive: Primitive
    var a: UnsafePointer<dnnl_memory_desc_t> { primitive.md(dnnl_query_src_md) }
    var b: UnsafePointer<dnnl_memory_desc_t> { primitive.md(dnnl_query_weights_md) }
    var c: UnsafePointer<dnnl_memory_desc_t> { primitive.md(dnnl_query_dst_md) }
    var bias: UnsafePointer<dnnl_memory_desc_t> { primitive.md(dnnl_query_weights_md, 1) }
    let addend: OwnedMemoryDesc?
    /// With `prepackB`: the caller's layout of B, the reorder into the chosen one, and that layout's identity.
    let userB: OwnedMemoryDesc
    let reorderB: Primitive?
    let packedLayout: DescriptorBytes?
    /// bf16 plans: the caller's fp32 A (and B, unless prepacked) converted to the dense bf16 operand.
    let convertA: Primitive?
    let convertB: Primitive?

    init(_ key: Key) throws {
        try key.precision.requireSupport()   // a direct call with a precision this CPU lacks: typed, not oneDNN's refusal
        let operand = key.precision.operandType
        let userA = try MemoryDesc.strided(key.a.dims, strides: key.a.strides)
        var ad = operand == dnnl_f32 ? userA
            : try MemoryDesc.strided(key.a.dims, strides: MatrixLayout.contiguous(key.a.dims).strides, type: operand)
        let plainB = try MemoryDesc.strided(key.b.dims, strides: key.b.strides)
        var bd = key.prepackB ? try MemoryDesc.tagged(key.b.dims, dnnl_format_tag_any, type: operand)
            : operand == dnnl_f32 ? plainB
            : try MemoryDesc.strided(key.b.dims, strides: MatrixLayout.contiguous(key.b.dims).strides, type: operand)
        var cd = try MemoryDesc.strided(key.c.dims, strides: key.c.strides)
        let rank = key.c.dims.count
        var biasDims = [Int](repeating: 1, count: rank)
        biasDims[rank - 1] = key.c.dims[rank - 1]
        var biasd = try MemoryDesc.tagged(biasDims, [dnnl_ab, dnnl_abc, dnnl_abcd][rank - 2])
        var d = dnnl_matmul_desc_t()
        try dnnlCheck(withUnsafePointer(to: &biasd) { bp in
            dnnl_matmul_desc_init(&d, &ad, &bd, key.bias ? bp : nil, &cd)
        }, "matmul desc \(key)")
        var postOps: [Primitive.PostOp] = []
        let e = key.epilogue
        if e.accumulateScale != 0 {
            postOps.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: e.accumulateScale))
        }
        if let dims = e.addendDims {
            let md = try MemoryDesc.strided(dims, strides: MatrixLayout.contiguous(dims).strides)
            addend = OwnedMemoryDesc(md)
            postOps.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, operand: md))
        } else {
            addend = nil
        }
        if let act = e.activation { postOps.append(act.postOp) }
        primitive = try Primitive("strided matmul \(key)", opDesc: &d, postOps: postOps, outputScale: e.scale == 1 ? nil : e.scale)
        let b = primitive.md(dnnl_query_weights_md)
        userB = OwnedMemoryDesc(plainB)
        if key.prepackB && !MemoryDesc.equal(userB.pointer, b) {
            reorderB = try Primitive(reorder: "matmul weights", from: userB.pointer, to: b)
            packedLayout = DescriptorBytes(b)
        } else {
            reorderB = nil; packedLayout = nil
        }
        if operand == dnnl_f32 {
            convertA = nil; convertB = nil
        } else {
            var a = userA
            convertA = try Primitive(reorder: "matmul A to \(key.precision)", from: &a, to: primitive.md(dnnl_query_src_md))
            convertB = key.prepackB ? nil
                : try Primitive(reorder: "matmul B to \(key.precision)", from: userB.pointer, to: b)
        }
    }

    static let cache = PlanCache<Key, StridedMatmulPlan>()
}

/// The raw bytes of a memory descriptor: two plans that chose the same weights layout share one cached copy.
/// Hashed once at creation, since the weight cache looks it up on every call.
struct DescriptorBytes: Hashable, Sendable {
    let bytes: [UInt8]
    private let hash: Int
    init(_ md: UnsafePointer<dnnl_memory_desc_t>) {
        bytes = Array(UnsafeRawBufferPointer(start: md, count: MemoryLayout<dnnl_memory_desc_t>.size))
        hash = bytes.hashValue
    }
    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    static func == (l: DescriptorBytes, r: DescriptorBytes) -> Bool { l.hash == r.hash && l.bytes == r.bytes }
}

extension Kernels {
    /// C = epilogue(A B + bias) with every operand read or written through its own layout. The batch
    /// dims of A and B either match C's or are 1 (broadcast). `bias` has C's column count; `addend`
    /// has `epilogue.addendDims`. Runs on oneDNN's matmul (gemm:jit for these layouts). With a
    /// `weightKey` (B is a rank-2 weight), B is reordered once into the layout oneDNN prefers and
    /// cached until its version changes: 4-8% faster products for BERT's linears.
    /// `precision` bf16 (docs/PRECISION.md): A and B are converted to dense bf16 as they are read (a
    /// prepacked weight once, into the cache), products accumulate in fp32, C, bias and addend stay fp32.
    /// The caller checks `precision.requireSupport()`. int8 computes in fp32 (no int8 matmul yet).
    public static func matmul(a: UnsafePointer<Float>, _ aLayout: MatrixLayout,
                              b: UnsafePointer<Float>, _ bLayout: MatrixLayout,
                              c: UnsafeMutablePointer<Float>, _ cLayout: MatrixLayout,
                              bias: UnsafePointer<Float>? = nil, addend: UnsafePointer<Float>? = nil,
                              epilogue: MatmulEpilogue = MatmulEpilogue(), weightKey: WeightKey? = nil,
                              precision: Precision = .fp32) throws {
        precondition(bias == nil || epilogue.scale == 1, "matmul: a scaled product would scale the bias too")
        precondition((addend == nil) == (epilogue.addendDims == nil), "matmul: addend and its dims go together")
        guard !cLayout.dims.contains(0) else { return }
        let prepack = weightKey != nil && bLayout.dims.count == 2
        // int8 covers the calibrated convolutions only (docs/PRECISION.md): matmuls compute in fp32 there.
        let key = StridedMatmulPlan.Key(a: aLayout, b: bLayout, c: cLayout, bias: bias != nil, epilogue: epilogue,
                                        prepackB: prepack, precision: precision == .int8 ? .fp32 : precision)
        try ExecutionContext.with { context in
            let plan = try StridedMatmulPlan.cache.plan(key) { try StridedMatmulPlan(key) }
            var packed: AlignedBuffer?   // kept alive until the primitive has run
            if let weightKey, let reorder = plan.reorderB, let layout = plan.packedLayout {
                packed = try WeightCache.shared.reordered(weightKey, use: .matmul, layout: layout, reorder: reorder,
                                                      source: b, context: context)
            }
            /// A bf16 copy of an fp32 operand in the context's scratch.
            func converted(_ reorder: Primitive, _ source: UnsafePointer<Float>, _ slot: ExecutionContext.Slot) throws -> UnsafeRawPointer {
                let target = try context.buffer(slot, bytes: MemoryDesc.bytes(reorder.md(dnnl_query_dst_md)))
                try reorder.execute(context, [
                    PrimitiveArgument(role: DNNL_ARG_FROM, desc: reorder.md(dnnl_query_src_md), data: source),
                    PrimitiveArgument(role: DNNL_ARG_TO, desc: reorder.md(dnnl_query_dst_md), data: target),
                ])
                return UnsafeRawPointer(target)
            }
            let aData = try plan.convertA.map { try converted($0, a, .lowPrecisionA) } ?? UnsafeRawPointer(a)
            let bData = try packed.map { UnsafeRawPointer($0.pointer) }
                ?? plan.convertB.map { try converted($0, b, .lowPrecisionB) } ?? UnsafeRawPointer(b)
            var args = [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: plan.a, data: aData),
                PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: plan.b, data: bData),
                PrimitiveArgument(role: DNNL_ARG_DST, desc: plan.c, data: c),
            ]
            if let bias { args.append(PrimitiveArgument(role: DNNL_ARG_BIAS, desc: plan.bias, data: bias)) }
            if let addend, let md = plan.addend {
                // The post-op's index in the chain: after the sum when there is one.
                let index = epilogue.accumulateScale != 0 ? 1 : 0
                args.append(PrimitiveArgument(role: Primitive.postOpArgument(index), desc: md.pointer, data: addend))
            }
            try plan.primitive.execute(context, args)
            withExtendedLifetime(packed) {}
        }
    }
}
