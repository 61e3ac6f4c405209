/// Reads a msgpack map of unsigned integer keys to integer values (spaCy's `key2row`).
/// msgpack is big-endian; counts are checked against the bytes left before reserving.
enum MessagePackIntMap {
    static func read(_ storage: ByteStorage, file: String) throws -> [(key: UInt64, value: Int)] {
        var r = ByteReader(storage, file: file)
        let at = r.position
        let tag = try r.u8("msgpack map")
        let count: Int
        switch tag {
        case 0x80...0x8F: count = Int(tag & 0x0F)
        case 0xDE: count = Int(UInt16(bigEndian: try r.u16("msgpack map16")))
        case 0xDF: count = Int(UInt32(bigEndian: try r.u32("msgpack map32")))
        default: throw r.malformed("msgpack", "expected a map, found tag 0x\(String(tag, radix: 16))", at: at)
        }
        // Each key and value takes at least one byte.
        _ = try r.needDeclared(UInt64(count) * 2, "msgpack map of \(count) entries")
        var out: [(key: UInt64, value: Int)] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let key = try integer(&r)
            let valueAt = r.position
            let value = try integer(&r)
            guard key.negative == false, value.magnitude <= UInt64(Int.max) else {
                throw r.malformed("msgpack map", "entry is not an unsigned key with an integer value", at: valueAt)
            }
            out.append((key.magnitude, value.negative ? -Int(value.magnitude) : Int(value.magnitude)))
        }
        return out
    }

    private static func integer(_ r: inout ByteReader) throws -> (negative: Bool, magnitude: UInt64) {
        let at = r.position
        let tag = try r.u8("msgpack integer")
        func signed(_ v: Int64) -> (Bool, UInt64) { (v < 0, v.magnitude) }
        switch tag {
        case 0x00...0x7F: return (false, UInt64(tag))
        case 0xE0...0xFF: return signed(Int64(Int8(bitPattern: tag)))
        case 0xCC: return (false, UInt64(try r.u8("msgpack uint8")))
        case 0xCD: return (false, UInt64(UInt16(bigEndian: try r.u16("msgpack uint16"))))
        case 0xCE: return (false, UInt64(UInt32(bigEndian: try r.u32("msgpack uint32"))))
        case 0xCF: return (false, UInt64(bigEndian: try r.u64("msgpack uint64")))
        case 0xD0: return signed(Int64(Int8(bitPattern: try r.u8("msgpack int8"))))
        case 0xD1: return signed(Int64(Int16(bitPattern: UInt16(bigEndian: try r.u16("msgpack int16")))))
        case 0xD2: return signed(Int64(Int32(bitPattern: UInt32(bigEndian: try r.u32("msgpack int32")))))
        case 0xD3: return signed(Int64(bitPattern: UInt64(bigEndian: try r.u64("msgpack int64"))))
        default: throw r.malformed("msgpack", "expected an integer, found tag 0x\(String(tag, radix: 16))", at: at)
        }
    }
}
