/// Writes pickle opcodes by hand, for hostile inputs no Python library would produce.
struct PickleBuilder {
    var bytes: [UInt8] = [0x80, 0x02]

    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 { bytes += [0x4B, UInt8(v)] } else { bytes += [0x8A, 8] + le64(UInt64(bitPattern: Int64(v))) }
    }
    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        bytes += [0x58] + le32(UInt32(u.count)) + u
    }
    mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
    mutating func tuple(_ items: (inout PickleBuilder) -> Void) {
        op(0x28)
        items(&self)
        op(0x74)
    }
    /// ('storage', torch.<Type>Storage, key, 'cpu', count) BINPERSID
    mutating func storage(_ type: String, key: String, count: Int) {
        tuple { b in
            b.string("storage"); b.global("torch", type); b.string(key); b.string("cpu"); b.int(count)
        }
        op(0x51)
    }
    /// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())
    mutating func tensor(_ type: String, key: String, count: Int, offset: Int, size: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        tuple { b in
            b.storage(type, key: key, count: count)
            b.int(offset)
            b.tuple { t in for s in size { t.int(s) } }
            b.tuple { t in for s in stride { t.int(s) } }
            b.op(0x89)
            b.global("collections", "OrderedDict"); b.op(0x29); b.op(0x52)
        }
        op(0x52)
    }
    mutating func stop() { op(0x2E) }
}

func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

/// A legacy PyTorch file around `main` (the state-dict pickle), with storages in `storages`.
func legacyFile(main: [UInt8], storages: [(key: String, count: UInt64, bytes: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
    out += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E] // 1001
    var info = PickleBuilder()
    info.op(0x7D); info.string("little_endian"); info.op(0x88); info.op(0x73); info.stop()
    out += info.bytes
    out += main
    var keys = PickleBuilder()
    keys.op(0x5D); keys.op(0x28); for s in storages { keys.string(s.key) }; keys.op(0x65); keys.stop()
    out += keys.bytes
    for s in storages { out += le64(s.count) + s.bytes }
    return out
}
