import CDNNL
import CGraftKernels

/// An int8 linear layer with dynamic quantization (docs/PRECISION.md, "int8 linears"): the fp32 `[out, in]` weight is
/// quantized once per weight version to s8 with one symmetric scale w[o] per output channel, the fp32 input per call
/// to u8 with one scale s[r] per row, stored around a zero point z (q = x / s[r] + z; 128 unless the caller knows its input
/// is mostly positive), and oneDNN multiplies u8 x s8
/// into s32 (AMX / VNNI kernels where the CPU has them). A row's codes depend on that row only, so its result does
/// not depend on the rows batched with it: x W^T [r, o] = s[r] w[o] (q Wq^T - z rowsum(Wq))[r, o]. oneDNN adds
/// the bias argument to the s32 sum before any scaling, so that argument carries -z rowsum(Wq)[o]; then the
/// factors w[o] and s[r], the fp32 bias, the residual sum and the activation (`Int8LinearScaling` says how).
final class Int8LinearPlan: Sendable {
    struct Key: Hashable, Sendable {
        let rows: Int, inputs: Int, outputs: Int
        let activation: Activation?
        let accumulate: Bool
        var hasBias = true
        var scaling: Int8LinearScaling = .preferred
    }

    /// The matmul: with `multiplyPostOp` it writes the finished result; with `runtimeOutputScales` it writes
    /// (acc - 128 rowsum) * w[o] and `rowStep` finishes it.
    let primitive: Primitive
    /// `runtimeOutputScales` only: a binary multiply by the `[rows, 1]` row scales, with the bias add, the
    /// residual sum and the activation as its post-ops.
    let rowStep: Primitive?
    /// Plain s8 `[in, out]` (the transposed `[out, in]` weight) -> the primitive's chosen s8 layout.
    let weightsReorder: Primitive
    let plainWeights: OwnedMemoryDesc
    let weightsLayout: DescriptorBytes
    /// `[1, outputs]`: the weight scales (a multiply post-op's operand) and the bias (an add's).
    let columnsDesc: OwnedMemoryDesc
    /// `[outputs]`: the weight scales as run-time output scales.
    let outputScalesDesc: OwnedMemoryDesc
    /// `[rows, 1]`: the row scales.
    let rowScalesDesc: OwnedMemoryDesc
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
        let columns = try MemoryDesc.tagged([1, key.outputs], dnnl_ab)
        let rows = try MemoryDesc.tagged([key.rows, 1], dnnl_ab)
        columnsDesc = OwnedMemoryDesc(columns)
        rowScalesDesc = OwnedMemoryDesc(rows)
        outputScalesDesc = OwnedMemoryDesc(try MemoryDesc.tagged([key.outputs], dnnl_x))
        // After the scaling: + bias[o], (+ dst), act.
        var finish: [Primitive.PostOp] = []
        if key.hasBias { finish.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, operand: columns, binary: dnnl_binary_add)) }
        if key.accumulate { finish.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: 1)) }
        if let activation = key.activation { finish.append(activation.postOp) }
        switch key.scaling {
        case .multiplyPostOp:
            let scale = [columns, rows].map { Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, operand: $0, binary: dnnl_binary_mul) }
            primitive = try Primitive("int8 linear \(key)", opDesc: &d, postOps: scale + finish)
            rowStep = nil
        case .runtimeOutputScales:
            // One scale per output column (mask: dim 1), given at run time.
            primitive = try Primitive("int8 linear \(key)", opDesc: &d, outputScales: (mask: 1 << 1, values: [Int8LinearPlan.runtimeScale]))
            var b = dnnl_binary_desc_t(), rowScales = rows
            try dnnlCheck(dnnl_binary_desc_init(&b, dnnl_binary_mul, &dst, &rowScales, &dst), "int8 linear row scales \(key)")
            rowStep = try Primitive("int8 linear row scales \(key)", opDesc: &b, postOps: finish)
        }
        plainWeights = OwnedMemoryDesc(try MemoryDesc.strided([key.inputs, key.outputs], strides: [1, key.inputs], type: dnnl_s8))
        weightsReorder = try Primitive(reorder: "int8 linear weights", from: plainWeights.pointer, to: primitive.md(dnnl_query_weights_md))
        weightsLayout = DescriptorBytes(primitive.md(dnnl_query_weights_md))
        packedBytes = (MemoryDesc.bytes(primitive.md(dnnl_query_weights_md)) + 63) / 64 * 64
    }

    /// oneDNN's DNNL_RUNTIME_F32_VAL (a NaN bit pattern: "this scale comes with the execution").
    static let runtimeScale = Float(bitPattern: 0x7fc0_00d0)

    static let cache = PlanCache<Key, Int8LinearPlan>()

}

/// How an int8 linear applies its dequantizing factors w[o] s[r]. oneDNN 2.6 runs a u8 x s8 matmul with run-time
/// output scales (DNNL_RUNTIME_F32_VAL) only with `gemm:jit`, even where its brgemm kernels
/// (`brg:avx512_core_amx_int8`, `brg:avx512_core_vnni`) exist (MiniLM int8 then ran at 0.43x ONNX Runtime int8; 1.12x+
/// on brgemm, bench/RESULTS.md). Binary post-ops by `[1, outputs]` and `[rows, 1]` tensors keep brgemm
/// (`multiplyPostOp`: one primitive). Without brgemm (AVX2, AVX-512 without VNNI) binary post-ops send the matmul to
/// `ref_int8:any`, so there (`runtimeOutputScales`) `gemm:jit` applies w[o] as run-time output scales into scratch and
/// a oneDNN binary primitive multiplies by s[r] with the rest as its post-ops: one more pass over the output.
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

    /// Quantizes `weight` `[outputs, inputs]` into `buffer`: per-channel scales (max |w| / the levels against u8
    /// inputs, `weightLevels(unsignedInput: true)`), s8 values rounded to nearest even, their row sums, then the plain s8 matrix reordered into the primitive's layout.
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

extension Kernels {
    /// `c = act(a W^T + bias)` (with `accumulate`: `+ c`, a residual already in c) for a fp32 `a` `[rows, inputs]` and
    /// a fp32 weight `[outputs, inputs]`, computed in int8 with dynamic quantization (`Int8LinearPlan`). The s8 weight,
    /// its scales and row sums are cached under `weightKey` until its version changes. `inputZeroPoint` (1...128) is
    /// the u8 code of 0 in each row: 128 (symmetric) for inputs of either sign; lower for inputs that are mostly
    /// positive (GELU's output, at least -0.17: 16 gives the positive side 239 codes instead of 127). Each row's scale
    /// still covers its whole range, so no value saturates.
    public static func linearInt8(a: UnsafePointer<Float>, rows: Int, inputs: Int, weight: UnsafePointer<Float>, outputs: Int,
                                  weightKey: WeightKey, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>,
                                  activation: Activation? = nil, accumulate: Bool = false,
                                  inputZeroPoint: Int = 128, scaling: Int8LinearScaling = .preferred) throws {
        guard rows > 0, outputs > 0 else { return }
        guard inputs > 0 else {
            throw KernelError.invalidArguments(primitive: "int8 linear", reason: "no input features")
        }
        guard (1...128).contains(inputZeroPoint) else {
            throw KernelError.invalidArguments(primitive: "int8 linear", reason: "input zero point \(inputZeroPoint) is not in 1...128")
        }
        try Precision.int8.requireSupport()
        let key = Int8LinearPlan.Key(rows: rows, inputs: inputs, outputs: outputs, activation: activation, accumulate: accumulate,
                                     hasBias: bias != nil, scaling: scaling)
        try ExecutionContext.with { context in
            let plan = try Int8LinearPlan.cache.plan(key) { try Int8LinearPlan(key) }
            let block = try WeightCache.shared.prepared(weightKey, use: .int8Linear, layout: plan.weightsLayout,
                                                        bytes: Int8LinearWeights.bytes(plan: plan, outputs: outputs)) { buffer in
                try Int8LinearWeights.fill(buffer, weight: weight, inputs: inputs, outputs: outputs, plan: plan, context: context)
            }
            let w = Int8LinearWeights(block, plan: plan, outputs: outputs)
            // Per call: each row's scale and codes, and the bias argument -128 rowsum(Wq) (the codes' offset).
            let quantized = try context.buffer(.int8A, bytes: rows * inputs)
            let extras = try context.buffer(.int8B, bytes: (rows + outputs) * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
            let rowScales = extras, offset = extras + rows
            graft_quantize_rows_u8(a, Int64(rows), Int64(inputs), Int32(inputZeroPoint), rowScales, quantized.assumingMemoryBound(to: UInt8.self))
            let zero = Float(inputZeroPoint)
            for o in 0..<outputs { offset[o] = -zero * w.rowSums[o] }
            let p = plan.primitive
            var matmul = [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: quantized),
                PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: p.md(dnnl_query_weights_md), data: w.packed),
                PrimitiveArgument(role: DNNL_ARG_BIAS, desc: p.md(dnnl_query_weights_md, 1), data: offset),
            ]
            // The bias add is the first post-op after the scaling, when there is a bias.
            let biasArgument = { (index: Int) in bias.map { [PrimitiveArgument(role: Primitive.postOpArgument(index), desc: plan.columnsDesc.pointer, data: $0)] } ?? [] }
            if let rowStep = plan.rowStep {
                let scaled = try context.buffer(.output, bytes: rows * outputs * MemoryLayout<Float>.stride)
                try p.execute(context, matmul + [
                    PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: scaled),
                    PrimitiveArgument(role: DNNL_ARG_ATTR_OUTPUT_SCALES, desc: plan.outputScalesDesc.pointer, data: w.scales),
                ])
                try rowStep.execute(context, [
                    PrimitiveArgument(role: DNNL_ARG_SRC_0, desc: rowStep.md(dnnl_query_src_md), data: scaled),
                    PrimitiveArgument(role: DNNL_ARG_SRC_1, desc: plan.rowScalesDesc.pointer, data: rowScales),
                    PrimitiveArgument(role: DNNL_ARG_DST, desc: rowStep.md(dnnl_query_dst_md), data: c),
                ] + biasArgument(0))
            } else {
                matmul += [
                    PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: c),
                    PrimitiveArgument(role: Primitive.postOpArgument(0), desc: plan.columnsDesc.pointer, data: w.scales),
                    PrimitiveArgument(role: Primitive.postOpArgument(1), desc: plan.rowScalesDesc.pointer, data: rowScales),
                ]
                try p.execute(context, matmul + biasArgument(2))
            }
            withExtendedLifetime(block) {}
        }
    }

    /// The oneDNN implementations an int8 linear of this shape runs: the matmul's (e.g. "brg:avx512_core_amx_int8"),
    /// then, with run-time output scales, the row-scale step's (e.g. "gemm:jit + jit:uni").
    public static func linearInt8Implementation(rows: Int, inputs: Int, outputs: Int, activation: Activation? = nil,
                                                accumulate: Bool = false, scaling: Int8LinearScaling = .preferred) throws -> String {
        try ExecutionContext.with { _ in
            let key = Int8LinearPlan.Key(rows: rows, inputs: inputs, outputs: outputs, activation: activation, accumulate: accumulate,
                                         scaling: scaling)
            let plan = try Int8LinearPlan.cache.plan(key) { try Int8LinearPlan(key) }
            return ([plan.primitive] + (plan.rowStep.map { [$0] } ?? [])).map(\.implementation).joined(separator: " + ")
        }
    }
}
