import CDNNL
import CGraftKernels

/// An int8 linear layer with dynamic quantization (docs/PRECISION.md, "int8 linears"): the fp32 `[out, in]` weight is
/// quantized once per weight version to s8 with one symmetric scale w[o] per output channel, the fp32 input per call
/// to u8 codes spanning each row's own range, with a scale s[r] and a zero point z[r] per row (q = x / s[r] + z[r]),
/// and oneDNN multiplies u8 x s8 into s32 (AMX / VNNI kernels where the CPU has them). A row's codes depend on that
/// row only, so its result does not depend on the rows batched with it:
/// x W^T [r, o] = s[r] w[o] (q Wq^T - z[r] R[o]) with R = rowsum(Wq). The zero points' term z[r] R[o] is rank one,
/// which no single broadcast post-op adds: brgemm's post-ops factor it out, s[r] z[r] (w[o] acc / z[r] - w[o] R[o])
/// with z[r] >= 1; without brgemm a pass of Graft's adds it (`Int8LinearScaling` says which); then the fp32 bias,
/// the residual sum and the activation.
final class Int8LinearPlan: Sendable {
    struct Key: Hashable, Sendable {
        let rows: Int, inputs: Int, outputs: Int
        let activation: Activation?
        let accumulate: Bool
        let hasBias: Bool
        let scaling: Int8LinearScaling

        /// With run-time output scales the matmul is the same whatever follows it (Graft's epilogue does the rest).
        init(rows: Int, inputs: Int, outputs: Int, activation: Activation?, accumulate: Bool, hasBias: Bool = true,
             scaling: Int8LinearScaling = .preferred) {
            let bare = scaling == .runtimeOutputScales
            (self.rows, self.inputs, self.outputs, self.scaling) = (rows, inputs, outputs, scaling)
            (self.activation, self.accumulate, self.hasBias) = bare ? (nil, false, false) : (activation, accumulate, hasBias)
        }
    }

    /// The matmul: with `multiplyPostOp` it writes the finished result; with `runtimeOutputScales` it writes
    /// w[o] acc and `graft_int8_linear_epilogue` finishes it.
    let primitive: Primitive
    /// Plain s8 `[in, out]` (the transposed `[out, in]` weight) -> the primitive's chosen s8 layout.
    let weightsReorder: Primitive
    let plainWeights: OwnedMemoryDesc
    let weightsLayout: DescriptorBytes
    /// `[1, outputs]`: the per-column operands of the post-ops (weight scales, zero-point terms, the bias).
    let columnsDesc: OwnedMemoryDesc
    /// `[outputs]`: the weight scales as run-time output scales.
    let outputScalesDesc: OwnedMemoryDesc
    /// `[rows, 1]`: the per-row factors 1 / z[r] and s[r] z[r] (`multiplyPostOp`).
    let rowsDesc: OwnedMemoryDesc
    /// Bytes of the packed s8 weights, rounded up to 64: the per-channel scales and the zero-point terms follow
    /// them in the one cached block (`Int8LinearWeights`).
    let packedBytes: Int

    init(_ key: Key) throws {
        var src = try MemoryDesc.tagged([key.rows, key.inputs], dnnl_ab, type: dnnl_u8)
        var weights = try MemoryDesc.tagged([key.inputs, key.outputs], dnnl_format_tag_any, type: dnnl_s8)
        var dst = try MemoryDesc.tagged([key.rows, key.outputs], dnnl_ab)
        var d = dnnl_matmul_desc_t()
        try dnnlCheck(dnnl_matmul_desc_init(&d, &src, &weights, nil, &dst), "int8 linear desc \(key)")
        let columns = try MemoryDesc.tagged([1, key.outputs], dnnl_ab)
        let rows = try MemoryDesc.tagged([key.rows, 1], dnnl_ab)
        columnsDesc = OwnedMemoryDesc(columns)
        rowsDesc = OwnedMemoryDesc(rows)
        outputScalesDesc = OwnedMemoryDesc(try MemoryDesc.tagged([key.outputs], dnnl_x))
        switch key.scaling {
        case .multiplyPostOp:
            let step = { (operand: dnnl_memory_desc_t, op: dnnl_alg_kind_t) in
                Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, operand: operand, binary: op)
            }
            // x w[o], x 1 / z[r], + (-w[o] R[o]), x s[r] z[r]: s[r] w[o] (acc - z[r] R[o]); then + bias[o], (+ dst), act.
            var postOps = [step(columns, dnnl_binary_mul), step(rows, dnnl_binary_mul), step(columns, dnnl_binary_add), step(rows, dnnl_binary_mul)]
            if key.hasBias { postOps.append(step(columns, dnnl_binary_add)) }
            if key.accumulate { postOps.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: 1)) }
            if let activation = key.activation { postOps.append(activation.postOp) }
            primitive = try Primitive("int8 linear \(key)", opDesc: &d, postOps: postOps)
        case .runtimeOutputScales:
            // One scale per output column (mask: dim 1), given at run time.
            primitive = try Primitive("int8 linear \(key)", opDesc: &d, outputScales: (mask: 1 << 1, values: [Int8LinearPlan.runtimeScale]))
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
/// (`brg:avx512_core_amx_int8`) exist (MiniLM int8 then ran at 0.43x ONNX Runtime int8; 1.12x+ on brgemm,
/// bench/RESULTS.md). On AMX, binary post-ops by `[1, outputs]` and `[rows, 1]` tensors keep brgemm
/// (`multiplyPostOp`: one primitive). Elsewhere (AVX2, AVX-512 with or without VNNI: AMD Zen 4 measured) those binary post-ops send the matmul to
/// `ref_int8:any`, so there (`runtimeOutputScales`) `gemm:jit` applies w[o] as run-time output scales into scratch and
/// `graft_int8_linear_epilogue` does the rest in one more pass over the output (oneDNN's binary primitive broadcasts
/// its post-ops per column only, and the zero points' term needs a per-row factor after a per-column one).
public enum Int8LinearScaling: Hashable, Sendable {
    case multiplyPostOp
    case runtimeOutputScales

    /// `multiplyPostOp` on CPUs where oneDNN has brgemm int8 matmuls (AVX-512 VNNI and later) and runs this chain of
    /// post-ops on them (asked once per process, on a MiniLM-sized shape with bias, residual sum and GELU: were oneDNN
    /// to send it to its reference kernel, `runtimeOutputScales` on `gemm:jit` is far faster), else `runtimeOutputScales`.
    public static let preferred: Int8LinearScaling = {
        guard brgemmISAs.contains(dnnl_get_effective_cpu_isa().rawValue) else { return .runtimeOutputScales }
        let probe = Int8LinearPlan.Key(rows: 64, inputs: 384, outputs: 384, activation: .gelu, accumulate: true, scaling: .multiplyPostOp)
        guard let plan = try? Int8LinearPlan(probe), plan.primitive.implementation.hasPrefix("brg") else { return .runtimeOutputScales }
        return .multiplyPostOp
    }()

    private static let brgemmISAs: Set<UInt32> = Set([dnnl_cpu_isa_avx512_core_vnni, dnnl_cpu_isa_avx512_core_bf16,
                                                      dnnl_cpu_isa_avx512_core_amx].map(\.rawValue))
}

/// What an int8 linear keeps per weight version, in one cached block: the s8 weights in the primitive's layout,
/// then one scale per output channel (`w ≈ scale[o] * q`) and -scale[o] R[o], R[o] the sum of q over the inputs
/// (the zero points' term).
struct Int8LinearWeights {
    let packed: UnsafeRawPointer
    let scales: UnsafePointer<Float>
    let zeroPointTerms: UnsafePointer<Float>

    init(_ buffer: AlignedBuffer, plan: Int8LinearPlan, outputs: Int) {
        packed = UnsafeRawPointer(buffer.pointer)
        scales = UnsafePointer((buffer.pointer + plan.packedBytes).assumingMemoryBound(to: Float.self))
        zeroPointTerms = scales + outputs
    }

    static func bytes(plan: Int8LinearPlan, outputs: Int) -> Int { plan.packedBytes + 2 * outputs * MemoryLayout<Float>.stride }

    /// Quantizes `weight` `[outputs, inputs]` into `buffer`: per-channel scales (max |w| / the levels against u8
    /// inputs, `weightLevels(unsignedInput: true)`), s8 values rounded to nearest even, the zero points' term, then
    /// the plain s8 matrix reordered into the primitive's layout.
    static func fill(_ buffer: AlignedBuffer, weight: UnsafePointer<Float>, inputs: Int, outputs: Int, plan: Int8LinearPlan,
                     context: ExecutionContext) throws {
        let scales = ConvInt8Parameters.perChannelScales(of: weight, outChannels: outputs, count: outputs * inputs)
        let plain = try AlignedBuffer(bytes: outputs * inputs, for: "int8 linear weights")
        let q = plain.pointer.assumingMemoryBound(to: Int8.self)
        let scaleOut = (buffer.pointer + plan.packedBytes).assumingMemoryBound(to: Float.self)
        let terms = scaleOut + outputs
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
            terms[o] = -scales[o] * Float(sum)
        }
        try plan.weightsReorder.execute(context, [
            PrimitiveArgument(role: DNNL_ARG_FROM, desc: plan.plainWeights.pointer, data: plain.pointer),
            PrimitiveArgument(role: DNNL_ARG_TO, desc: plan.weightsReorder.md(dnnl_query_dst_md), data: buffer.pointer),
        ])
    }
}

/// A `[rows, inputs]` input as u8 codes with a scale and a zero point per row (`graft_quantize_rows_u8`), in one
/// scratch slot of the context: the codes, then the scales, then the zero points.
struct Int8RowCodes {
    let codes: UnsafeMutablePointer<UInt8>
    let scales: UnsafeMutablePointer<Float>
    let zeroPoints: UnsafeMutablePointer<Float>

    /// Room for `rows` x `inputs` codes in `slot`, not yet written.
    init(rows: Int, inputs: Int, slot: ExecutionContext.Slot, context: ExecutionContext) throws {
        let codeBytes = (rows * inputs + 63) / 64 * 64
        let block = try context.buffer(slot, bytes: codeBytes + 2 * rows * MemoryLayout<Float>.stride)
        codes = block.assumingMemoryBound(to: UInt8.self)
        scales = (block + codeBytes).assumingMemoryBound(to: Float.self)
        zeroPoints = scales + rows
    }

    /// `a`'s rows quantized into `slot`; with `columnScales` (`[inputs]`), the rows of `a` times them, in the same pass.
    static func quantizing(_ a: UnsafePointer<Float>, columnScales: UnsafePointer<Float>? = nil, rows: Int, inputs: Int,
                           slot: ExecutionContext.Slot, context: ExecutionContext) throws -> Int8RowCodes {
        let q = try Int8RowCodes(rows: rows, inputs: inputs, slot: slot, context: context)
        graft_quantize_rows_u8(a, columnScales, Int64(rows), Int64(inputs), q.scales, q.zeroPoints, q.codes)
        return q
    }
}

/// Where an int8 linear writes: fp32 (with `accumulate`, onto the residual already there), or u8 codes for the next
/// int8 linear (in the given scratch slot).
enum Int8LinearOutput {
    case float(UnsafeMutablePointer<Float>, accumulate: Bool)
    case codes(ExecutionContext.Slot)

    var accumulates: Bool { if case .float(_, let accumulate) = self { accumulate } else { false } }
}

extension Kernels {
    /// `c = act(a W^T + bias)` (with `accumulate`: `+ c`, a residual already in c) for a fp32 `a` `[rows, inputs]` and
    /// a fp32 weight `[outputs, inputs]`, computed in int8 with dynamic quantization (`Int8LinearPlan`): each row
    /// of `a` as u8 codes over its own range (`graft_quantize_rows_u8`). The s8 weight, its scales and zero-point
    /// terms are cached under `weightKey` until its version changes. `inputScales` (`[inputs]`, optional) multiply
    /// `a`'s columns first, in the quantizing pass (the int8 smoothing's `x / s`): `(a diag(inputScales)) W^T`.
    public static func linearInt8(a: UnsafePointer<Float>, inputScales: UnsafePointer<Float>? = nil, rows: Int, inputs: Int,
                                  weight: UnsafePointer<Float>, outputs: Int,
                                  weightKey: WeightKey, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>,
                                  activation: Activation? = nil, accumulate: Bool = false,
                                  scaling: Int8LinearScaling = .preferred) throws {
        guard rows > 0, outputs > 0 else { return }
        try requireInt8Linear(inputs: inputs)
        try ExecutionContext.with { context in
            let input = try Int8RowCodes.quantizing(a, columnScales: inputScales, rows: rows, inputs: inputs, slot: .int8A,
                                                    context: context)
            _ = try linearInt8(input, rows: rows, inputs: inputs, weight: weight, outputs: outputs, weightKey: weightKey, bias: bias,
                               activation: activation, output: .float(c, accumulate: accumulate), scaling: scaling, context: context)
        }
    }

    static func requireInt8Linear(inputs: Int) throws {
        guard inputs > 0 else {
            throw KernelError.invalidArguments(primitive: "int8 linear", reason: "no input features")
        }
        try Precision.int8.requireSupport()
    }

    /// One int8 linear from codes (consumed: their zero points are overwritten); with `.codes` output it returns the
    /// result's codes. Without brgemm the fp32 result of a `.codes` output never leaves the cache (Graft's epilogue
    /// quantizes each row as it finishes it); with brgemm it passes through `.extra` scratch.
    static func linearInt8(_ input: Int8RowCodes, rows: Int, inputs: Int, weight: UnsafePointer<Float>, outputs: Int,
                           weightKey: WeightKey, bias: UnsafePointer<Float>?, activation: Activation?, output: Int8LinearOutput,
                           scaling: Int8LinearScaling, context: ExecutionContext) throws -> Int8RowCodes? {
        let key = Int8LinearPlan.Key(rows: rows, inputs: inputs, outputs: outputs, activation: activation, accumulate: output.accumulates,
                                     hasBias: bias != nil, scaling: scaling)
        let plan = try Int8LinearPlan.cache.plan(key) { try Int8LinearPlan(key) }
        let block = try WeightCache.shared.prepared(weightKey, use: .int8Linear, layout: plan.weightsLayout,
                                                    bytes: Int8LinearWeights.bytes(plan: plan, outputs: outputs)) { buffer in
            try Int8LinearWeights.fill(buffer, weight: weight, inputs: inputs, outputs: outputs, plan: plan, context: context)
        }
        defer { withExtendedLifetime(block) {} }
        let w = Int8LinearWeights(block, plan: plan, outputs: outputs)
        let (rowScales, zeroPoints) = (input.scales, input.zeroPoints)
        let p = plan.primitive
        let matmul = [
            PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: input.codes),
            PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: p.md(dnnl_query_weights_md), data: w.packed),
        ]
        switch scaling {
        case .runtimeOutputScales:
            // w[o] acc, then act(s[r] w[o] acc + s[r] z[r] (-w[o] R[o]) + bias[o] (+ c)).
            let scaled = try context.buffer(.output, bytes: rows * outputs * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
            try p.execute(context, matmul + [
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: scaled),
                PrimitiveArgument(role: DNNL_ARG_ATTR_OUTPUT_SCALES, desc: plan.outputScalesDesc.pointer, data: w.scales),
            ])
            for r in 0..<rows { zeroPoints[r] *= rowScales[r] }
            let zeros = try context.buffer(.extra, bytes: outputs * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
            if bias == nil { zeros.initialize(repeating: 0, count: outputs) }
            let act = activation?.epilogueCode ?? Int32(GRAFT_ACT_NONE)
            switch output {
            case .float(let c, let accumulate):
                graft_int8_linear_epilogue(scaled, Int64(rows), Int64(outputs), rowScales, zeroPoints, w.zeroPointTerms,
                                           bias ?? UnsafePointer(zeros), accumulate ? 1 : 0, act, c)
                return nil
            case .codes(let slot):
                let next = try Int8RowCodes(rows: rows, inputs: outputs, slot: slot, context: context)
                guard graft_int8_linear_epilogue_codes(scaled, Int64(rows), Int64(outputs), rowScales, zeroPoints, w.zeroPointTerms,
                                                       bias ?? UnsafePointer(zeros), act, next.scales, next.zeroPoints, next.codes) == 0 else {
                    throw KernelError.outOfMemory(what: "int8 linear epilogue row", bytes: outputs * MemoryLayout<Float>.stride)
                }
                return next
            }
        case .multiplyPostOp:
            // The row factors 1 / z[r] and s[r] z[r].
            for r in 0..<rows {
                rowScales[r] *= zeroPoints[r]
                zeroPoints[r] = 1 / zeroPoints[r]
            }
            let destination: UnsafeMutablePointer<Float>
            switch output {
            case .float(let c, _): destination = c
            case .codes: destination = try context.buffer(.extra, bytes: rows * outputs * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
            }
            try p.execute(context, matmul + [
                PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: destination),
                PrimitiveArgument(role: Primitive.postOpArgument(0), desc: plan.columnsDesc.pointer, data: w.scales),
                PrimitiveArgument(role: Primitive.postOpArgument(1), desc: plan.rowsDesc.pointer, data: zeroPoints),
                PrimitiveArgument(role: Primitive.postOpArgument(2), desc: plan.columnsDesc.pointer, data: w.zeroPointTerms),
                PrimitiveArgument(role: Primitive.postOpArgument(3), desc: plan.rowsDesc.pointer, data: rowScales),
            ] + (bias.map { [PrimitiveArgument(role: Primitive.postOpArgument(4), desc: plan.columnsDesc.pointer, data: $0)] } ?? []))
            if case .codes(let slot) = output {
                return try Int8RowCodes.quantizing(destination, rows: rows, inputs: outputs, slot: slot, context: context)
            }
            return nil
        }
    }

    /// The implementations an int8 linear of this shape runs: the oneDNN matmul's (e.g. "brg:avx512_core_amx_int8"),
    /// then, with run-time output scales, Graft's epilogue ("gemm:jit + graft epilogue").
    public static func linearInt8Implementation(rows: Int, inputs: Int, outputs: Int, activation: Activation? = nil,
                                                accumulate: Bool = false, scaling: Int8LinearScaling = .preferred) throws -> String {
        try ExecutionContext.with { _ in
            let key = Int8LinearPlan.Key(rows: rows, inputs: inputs, outputs: outputs, activation: activation, accumulate: accumulate,
                                         scaling: scaling)
            let plan = try Int8LinearPlan.cache.plan(key) { try Int8LinearPlan(key) }
            return plan.primitive.implementation + (scaling == .runtimeOutputScales ? " + graft epilogue" : "")
        }
    }
}

extension Activation {
    /// The activation's code in `graft_int8_linear_epilogue`.
    var epilogueCode: Int32 {
        let code = switch self {
        case .relu: GRAFT_ACT_RELU
        case .relu6: GRAFT_ACT_RELU6
        case .silu: GRAFT_ACT_SILU
        case .gelu: GRAFT_ACT_GELU
        case .sigmoid: GRAFT_ACT_SIGMOID
        case .tanh: GRAFT_ACT_TANH
        case .hardswish: GRAFT_ACT_HARDSWISH
        case .leakyRelu: GRAFT_ACT_LEAKY_RELU
        }
        return Int32(code)
    }
}
