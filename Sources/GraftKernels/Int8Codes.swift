import CDNNL

/// A tensor kept as u8/s8 codes between int8 chains (ResNet blocks with identity shortcuts): fp32 -> codes and back
/// by a oneDNN reorder with the quantization's scale, the same rounding (nearest even) and saturation as an int8
/// convolution's source reorder.
extension Kernels {
    struct CodesReorderKey: Hashable, Sendable {
        let count: Int, quantization: ActivationQuantization, toCodes: Bool
    }

    static let codesReorders = PlanCache<CodesReorderKey, Primitive>()

    /// `count` fp32 values as codes in `quantization` (x / scale) into `dst` (`count` bytes).
    public static func quantize(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer,
                                _ quantization: ActivationQuantization) throws {
        try reorderCodes(.init(count: count, quantization: quantization, toCodes: true), from: UnsafeRawPointer(src), to: dst)
    }

    /// `count` codes in `quantization` as fp32 (code * scale) into `dst`.
    public static func dequantize(_ src: UnsafeRawPointer, count: Int, _ quantization: ActivationQuantization,
                                  into dst: UnsafeMutablePointer<Float>) throws {
        try reorderCodes(.init(count: count, quantization: quantization, toCodes: false), from: src, to: UnsafeMutableRawPointer(dst))
    }

    private static func reorderCodes(_ key: CodesReorderKey, from src: UnsafeRawPointer, to dst: UnsafeMutableRawPointer) throws {
        guard key.count > 0 else { return }
        try ExecutionContext.with { context in
            let reorder = try codesReorders.plan(key) {
                var codes = try MemoryDesc.tagged([key.count], dnnl_x, type: key.quantization.dataType)
                var floats = try MemoryDesc.tagged([key.count], dnnl_x)
                let scale = key.toCodes ? 1 / key.quantization.scale : key.quantization.scale
                return key.toCodes
                    ? try Primitive(reorder: "fp32 to codes", from: &floats, to: &codes, outputScales: (mask: 0, values: [scale]))
                    : try Primitive(reorder: "codes to fp32", from: &codes, to: &floats, outputScales: (mask: 0, values: [scale]))
            }
            try reorder.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_FROM, desc: reorder.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_TO, desc: reorder.md(dnnl_query_dst_md), data: dst),
            ])
        }
    }
}
