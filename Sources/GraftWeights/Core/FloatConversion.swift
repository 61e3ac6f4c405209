/// IEEE half to float, exact (subnormals, infinities and NaN payloads kept).
@inline(__always)
func floatFromHalf(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa * 2^-24 is exact in Float.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// bfloat16 is the high half of a float32.
@inline(__always)
func floatFromBFloat16(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// Converts `count` little-endian elements of `dtype` at `raw` (any alignment) to Float.
func convertToFloat(_ raw: UnsafeRawBufferPointer, _ dtype: DType, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
    guard count > 0, let src = raw.baseAddress else { return }
    switch dtype {
    case .f32:
        UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: count * 4)
    case .f64:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
    case .f16:
        for i in 0..<count { out[i] = floatFromHalf(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
    case .bf16:
        for i in 0..<count { out[i] = floatFromBFloat16(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
    case .i64:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
    case .u64:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
    case .i32:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
    case .u32:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
    case .i16:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
    case .u16:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
    case .i8:
        for i in 0..<count { out[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
    case .u8:
        for i in 0..<count { out[i] = Float(src.load(fromByteOffset: i, as: UInt8.self)) }
    case .bool:
        for i in 0..<count { out[i] = src.load(fromByteOffset: i, as: UInt8.self) == 0 ? 0 : 1 }
    }
}
