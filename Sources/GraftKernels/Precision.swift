import CDNNL

/// The number format inference computes in. Tensors between ops stay fp32 in every precision; what
/// changes is what the convolutions and matmuls multiply: fp32, bf16 (8-bit mantissa, fp32's range)
/// with fp32 accumulation, or int8 (u8/s8 inputs, s8 weights, s32 accumulation) for the convolutions a
/// quantized model has calibrated (`graft quantize`; the others stay fp32). Layer norm, softmax, pooling, batch norm and the glue loops stay fp32.
/// Training is always fp32 (an op recording a tape computes in fp32 whatever is asked).
public enum Precision: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case fp32, bf16, int8

    public var description: String { rawValue }
}

extension Precision {
    /// Why this CPU (as oneDNN sees it, `DNNL_MAX_CPU_ISA` included) cannot compute in this precision,
    /// or nil when it can. bf16 needs AVX-512 with the bf16 instructions (`avx512_core_bf16`, or AMX);
    /// oneDNN 2.6 has no bf16 convolution below that (it answers "unimplemented"), and its avx512_core
    /// emulation is slower than fp32. int8 runs on AVX2 and up (oneDNN's VNNI and AMX int8 kernels where the CPU
    /// has them, its u8 x s8 -> s16 ones below); whether a model can run it is the model's question (it needs a
    /// calibration, `graft quantize`), asked where the model is loaded.
    public var unsupportedReason: String? {
        switch self {
        case .fp32:
            return nil
        case .bf16:
            let isa = dnnl_get_effective_cpu_isa().rawValue
            return Precision.bf16ISAs.contains(isa) ? nil
                : "bf16 needs a CPU with AVX-512 bf16 instructions (avx512_core_bf16 or AMX); oneDNN reports \(Runtime.isa) here"
        case .int8:
            return Precision.int8ISAs.contains(dnnl_get_effective_cpu_isa().rawValue) ? nil
                : "int8 needs a CPU with AVX2 or AVX-512; oneDNN reports \(Runtime.isa) here"
        }
    }

    public var isSupported: Bool { unsupportedReason == nil }

    /// Throws `KernelError.unsupportedPrecision` unless this CPU can compute in this precision.
    public func requireSupport() throws(KernelError) {
        if let reason = unsupportedReason { throw KernelError.unsupportedPrecision(precision: self, reason: reason) }
    }

    /// oneDNN ISAs with native bf16 dot products.
    private static let bf16ISAs: Set = [dnnl_cpu_isa_avx512_core_bf16.rawValue, dnnl_cpu_isa_avx512_core_amx.rawValue]

    /// oneDNN ISAs with int8 convolutions Graft runs (below AVX2 oneDNN's int8 coverage is partial).
    private static let int8ISAs: Set<UInt32> = Set([dnnl_cpu_isa_avx2, dnnl_cpu_isa_avx2_vnni, dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx512_core_vnni,
                                        dnnl_cpu_isa_avx512_core_bf16, dnnl_cpu_isa_avx512_core_amx].map(\.rawValue))

    /// oneDNN's data type for the multiplied operands of the fp32-tensor plans (int8 has its own plans, Int8Convolution.swift;
    /// a layer without int8 parameters computes in fp32).
    var operandType: dnnl_data_type_t {
        switch self {
        case .fp32, .int8: dnnl_f32
        case .bf16: dnnl_bf16
        }
    }
}
