import CDNNL
import CGraftKernels

/// An int8 linear layer with dynamic quantization (docs/PRECISION.md, "int8 linears"): the fp32 input is quantized
/// per call to u8 with a per-tensor scale and zero point from its own range, the fp32 `[out, in]` weight once per
/// weight version to s8 with one symmetric scale per output channel, and oneDNN multiplies u8 x s8 into s32
/// (AMX / VNNI kernels where the CPU has them). The input scale changes every call, so the dequantizing factors
/// `inputScale * weightScale[o]` come with each execution (`Int8LinearScaling` says how); the zero point costs
/// nothing: with x = s (q - z), x W^T = s (q Wq^T - z rowsum(Wq)) W-scaled, so `z * rowsum(Wq)[o]` is folded into
/// the bias each call passes (in accumulator units: oneDNN 2.x adds the bias to the s32 sum before any scaling).
final class Int8LinearPlan: Sendable {
    struct Key: Hashable, Sendable {
        let rows: Int, inputs: Int, outputs: Int
        let activation: Activation?
        let accumulate: Bool
        var scaling: Int8LinearScaling = .preferred
    }

    let primitive: Primitive
    let scaling: Int8LinearScaling
    /// Plain s8 `[in, out]` (the transposed `[out, in]` weight) -> the primitive's chosen s8 layout.
    let weightsReorder: Primitive
    let plainWeights: OwnedMemoryDesc
    let weightsLayout: DescriptorBytes
    /// The per-call factors' layout: `[outputs]` output scales, or the `[1, outputs]` multiply post-op's operand.
    let scalesDesc: OwnedMemoryDesc
    /// Bytes of the packed s8 weights, rounded up to 64: the per-channel scales and the row sums follow them in
    /// the one cached block (`Int8LinearWeights`).
    let packedBytes: Int

    init(_ key: Key) throws {
        var src = try MemoryDesc.tagged([key.rows, key.inputs], dnnl_ab, type: dnnl_u8)
        var weights = try MemoryDesc.tagged([key.inputs, key.outputs], dnnl_format_tag_any, type: dnnl_s8)
        var bias = try MemoryDesc.tagged([1, key.outputs], dnnl_ab)
        var dst = try MemoryDesc.tagged([key.rows, key.outputs], dnnl_ab)
        var d = dnnl_matmul_desc_t()
        try dnnlCheck(dnnl_matmul_desc_init(&d, &src, &weights, &bias, &dst), "int8 linear desc \(key)")
        scaling = key.scaling
        var postOps: [Primitive.PostOp] = []
        switch key.scaling {
        case .multiplyPostOp:
            // dst = act((acc + bias') * factor[o] (+ dst)): the factors are the first post-op's [1, outputs] operand.
            let factors = try MemoryDesc.tagged([1, key.outputs], dnnl_ab)
            scalesDesc = OwnedMemoryDesc(factors)
            postOps.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, operand: factors, binary: dnnl_binary_mul))
        case .runtimeOutputScales:
            scalesDesc = OwnedMemoryDesc(try MemoryDesc.tagged([key.outputs], dnnl_x))
        }
        if key.accumulate { postOps.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: 1)) }
        if let activation = key.activation { postOps.append(activation.postOp) }
        switch key.scaling {
        case .multiplyPostOp:
            primitive = try Primitive("int8 linear \(key)", opDesc: &d, postOps: postOps)
        case .runtimeOutputScales:
            // One scale per output column (mask: dim 1), given at run time.
            primitive = try Primitive("int8 linear \(key)", opDesc: &d, postOps: postOps,
                                      outputScales: (mask: 1 << 1, values: [Int8LinearPlan.runtimeScale]))
        }
        plainWeights = OwnedMemoryDesc(try MemoryDesc.strided([key.inputs, key.outputs], strides: [1, key.inputs], type: dnnl_s8))
        weightsReorder = try Primitive(reorder: "int8 linear weights", from: plainWeights.pointer, to: primitive.md(dnnl_query_weights_md))
        weightsLayout = DescriptorBytes(primitive.md(dnnl_query_weights_md))
        packedBytes = (MemoryDesc.bytes(primitive.md(dnnl_query_weights_md)) + 63) / 64 * 64
    }

    /// oneDNN's DNNL_RUNTIME_F32_VAL (a NaN bit pattern: "this scale comes with the execution").
    static let runtimeScale = Float(bitPattern: 0x7fc0_00d0)

    static let cache = PlanCache<Key, Int8LinearPlan>()

    /// The execution argument carrying the per-call factors.
    var scalesRole: Int32 {
        switch scaling {
        case .multiplyPostOp: Primitive.postOpArgument(0)
        case .runtimeOutputScales: DNNL_ARG_ATTR_OUTPUT_SCALES
        }
    }
}

/// How an int8 linear applies its per-call dequantizing factors `inputScale * weightScale[o]`. oneDNN 2.6 runs a
/// u8 x s8 matmul with run-time output scales (DNNL_RUNTIME_F32_VAL) only with `gemm:jit`, even where its brgemm
/// kernels (`brg:avx512_core_amx_int8`, `brg:avx512_core_vnni`) exist (MiniLM int8 then ran at 0.43x ONNX Runtime int8;
/// 1.12x+ on brgemm, bench/RESULTS.md). A binary-multiply post-op by a `[1, outputs]` tensor keeps brgemm, but without
/// brgemm (AVX2, AVX-512 without VNNI) that post-op followed by a sum (the residual) falls to `ref_int8:any`; there
/// run-time output scales and `gemm:jit` stay.
public enum Int8LinearScaling: Hashable, Sendable {
    case multiplyPostOp
    case runtimeOutputScales

    /// `multiplyPostOp` on CPUs where oneDNN has brgemm int8 matmuls (AVX-512 VNNI and later), else `runtimeOutputScales`.
    public static var preferred: Int8LinearScaling {
        brgemmISAs.contains(dnnl_get_effective_cpu_isa().rawValue) ? .multiplyPostOp : .runtimeOutputScales
    }

    private static let brgemmISAs: Set<UInt32> = Set([dnnl_cpu_isa_avx512_core_vnni, dnnl_cpu_isa_avx512_core_bf16,
                                                      dnnl_cpu_isa_avx512_core_amx].map(\.rawValue))
}

/// What an int8 linear keeps per weight version, in one cached block: the s8 weights in the primitive's layout,
/// then one scale per output channel (`w ≈ scale[o] * q`) and the row sums of q (the zero point's correction).
struct Int8LinearWeights {
    let packed: UnsafeRawPointer
    let scales: UnsafePointer<Float>
    let rowSums: UnsafePointer<Float>

    init(_ buffer: AlignedBuffer, plan: Int8LinearPlan, outputs: Int) {
        packed = UnsafeRawPointer(buffer.pointer)
        scales = UnsafePointer((buffer.pointer + plan.packedBytes).assumingMemoryBound(to: Float.self))
        rowSums = scales + outputs
    }

    static func bytes(plan: Int8LinearPlan, outputs: Int) -> Int { plan.packedBytes + 2 * outputs * MemoryLayout<Float>.stride }

    /// Quantizes `weight` `[outputs, inputs]` into `buffer`: per-channel scales (max |w| / `weightLevels`), s8 values
    /// rounded to nearest even, their row sums, then the plain s8 matrix reordered into the primitive's layout.
    static func fill(_ buffer: AlignedBuffer, weight: UnsafePointer<Float>, inputs: Int, outputs: Int, plan: Int8LinearPlan,
                     context: ExecutionContext) throws {
        let scales = ConvInt8Parameters.perChannelScales(of: weight, outChannels: outputs, count: outputs * inputs)
        let plain = try AlignedBuffer(bytes: outputs * inputs, for: "int8 linear weights")
        let q = plain.pointer.assumingMemoryBound(to: Int8.self)
        let scaleOut = (buffer.pointer + plan.packedBytes).assumingMemoryBound(to: Float.self)
        let sums = scaleOut + outputs
        for o in 0..<outputs {
            let inverse = 1 / scales[o]
            var sum: Int32 = 0
            for i in 0..<inputs {
                let v = Int32((weight[o * inputs + i] * inverse).rounded(.toNearestOrEven))
                let clamped = Swift.min(127, Swift.max(-127, v))
                q[o * inputs + i] = Int8(clamped)
                sum += clamped
            }
            scaleOut[o] = scales[o]
            sums[o] = Float(sum)
        }
        try plan.weightsReorder.execute(context, [
            PrimitiveArgument(role: DNNL_ARG_FROM, desc: plan.plainWeights.pointer, data: plain.pointer),
            PrimitiveArgument(role: DNNL_ARG_TO, desc: plan.weightsReorder.md(dnnl_query_dst_md), data: buffer.pointer),
        ])
    }
}

/// How one call quantizes its input: x ≈ scale * (q - zeroPoint), q in u8, from the input's own range (which always
/// holds 0, so zero is exact). A tensor of zeros gets scale 1.
public struct DynamicQuantization: Equatable, Sendable {
    public let scale: Float
    public let zeroPoint: Float

    public init(min: Float, max: Float) {
        let lo = Swift.min(min, 0), hi = Swift.max(max, 0)
        let s = (hi - lo) / 255
        scale = s > 0 && s.isFinite ? s : 1
        zeroPoint = (-lo / scale).rounded(.toNearestOrEven).clamped(0, 255)
    }

    /// From the range of `count` floats at `x`.
    public init(of x: UnsafePointer<Float>, count: Int) {
        var lo: Float = 0, hi: Float = 0
        graft_min_max(x, Int64(count), &lo, &hi)
        self.init(min: lo, max: hi)
    }
}

private extension Float {
    func clamped(_ lo: Float, _ hi: Float) -> Float { Swift.min(hi, Swift.max(lo, self)) }
}

extension Kernels {
    /// `c = act(a W^T + bias)` (with `accumulate`: `+ c`, a residual already in c) for a fp32 `a` `[rows, inputs]` and
    /// a fp32 weight `[outputs, inputs]`, computed in int8 with dynamic quantization (`Int8LinearPlan`). The s8 weight,
    /// its scales and row sums are cached under `weightKey` until its version changes.
    public static func linearInt8(a: UnsafePointer<Float>, rows: Int, inputs: Int, weight: UnsafePointer<Float>, outputs: Int,
                                  weightKey: WeightKey, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>,
                                  activation: Activation? = nil, accumulate: Bool = false,
                                  scaling: Int8LinearScaling = .preferred) throws {
        guard rows > 0, outputs > 0 else { return }
        guard inputs > 0 else {
            throw KernelError.invalidArguments(primitive: "int8 linear", reason: "no input features")
        }
        try Precision.int8.requireSupport()
        let key = Int8LinearPlan.Key(rows: rows, inputs: inputs, outputs: outputs, activation: activation, accumulate: accumulate,
                                     scaling: scaling)
        try ExecutionContext.with { context in
            let plan = try Int8LinearPlan.cache.plan(key) { try Int8LinearPlan(key) }
            let block = try WeightCache.shared.prepared(weightKey, use: .int8Linear, layout: plan.weightsLayout,
                                                        bytes: Int8LinearWeights.bytes(plan: plan, outputs: outputs)) { buffer in
                try Int8LinearWeights.fill(buffer, weight: weight, inputs: inputs, outputs: outputs, plan: plan, context: context)
            }
            let w = Int8LinearWeights(block, plan: plan, outputs: outputs)
            let input = DynamicQuantization(of: a, count: rows * inputs)
            let quantized = try context.buffer(.int8A, bytes: rows * inputs)
            graft_quantize_u8(a, Int64(rows * inputs), 1 / input.scale, input.zeroPoint, quantized.assumingMemoryBound(to: UInt8.self))
            // Per call: the factors s * w[o], and the bias in accumulator units less the zero point's share.
            let extras = try context.buffer(.int8B, bytes: 2 * outputs * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
            let scales = extras, shiftedBias = extras + outputs
            for o in 0..<outputs {
                scales[o] = input.scale * w.scales[o]
                shiftedBias[o] = (bias?[o] ?? 0) / scales[o] - input.zeroPoint * w.rowSums[o]
            }
            let p = plan.primitive
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: quantized),
                PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: p.md(dnnl_query_weights_md), data: w.packed),
                PrimitiveArgument(role: DNNL_ARG_BIAS, desc: p.md(dnnl_query_weights_md, 1), data: shiftedBias),
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: c),
                PrimitiveArgument(role: plan.scalesRole, desc: plan.scalesDesc.pointer, data: scales),
            ])
            withExtendedLifetime(block) {}
        }
    }

    /// The oneDNN implementation an int8 linear of this shape runs (e.g. "brg:avx512_core_amx_int8").
    public static func linearInt8Implementation(rows: Int, inputs: Int, outputs: Int, activation: Activation? = nil,
                                                accumulate: Bool = false, scaling: Int8LinearScaling = .preferred) throws -> String {
        try ExecutionContext.with { _ in
            let key = Int8LinearPlan.Key(rows: rows, inputs: inputs, outputs: outputs, activation: activation, accumulate: accumulate,
                                         scaling: scaling)
            return try Int8LinearPlan.cache.plan(key) { try Int8LinearPlan(key) }.primitive.implementation
        }
    }
}
