/// A bounds-checked reader of the protobuf wire format, for the handful of ONNX fields
/// GraftWeights needs (see docs/WEIGHTS.md for why this is not swift-protobuf).
struct ProtobufReader {
    enum Wire: Int { case varint = 0, fixed64 = 1, bytes = 2, fixed32 = 5 }

    var r: ByteReader
    let context: String

    init(_ r: ByteReader, context: String) {
        self.r = r
        self.context = context
    }

    var isAtEnd: Bool { r.isAtEnd }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func next() throws -> (field: Int, wire: Wire)? {
        guard !r.isAtEnd else { return nil }
        let at = r.position
        let key = try varint()
        let field = key >> 3
        guard field > 0, field <= 536_870_911 else { throw r.malformed(context, "field number \(field)", at: at) }
        guard let wire = Wire(rawValue: Int(key & 7)) else {
            throw r.malformed(context, "wire type \(key & 7) of field \(field) (groups are not supported)", at: at)
        }
        return (Int(field), wire)
    }

    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0
        let at = r.position
        for i in 0..<10 {
            let b = try r.u8(context + " varint")
            if i == 9 && b > 1 { throw r.malformed(context, "varint longer than 64 bits", at: at) }
            v |= UInt64(b & 0x7F) << (7 * UInt64(i))
            if b & 0x80 == 0 { return v }
        }
        throw r.malformed(context, "varint longer than 10 bytes", at: at)
    }

    /// A length-delimited field's absolute byte range, checked against the message.
    mutating func bytes() throws -> Range<Int> {
        let n = try r.needDeclared(try varint(), context + " field length")
        return try r.take(n, context + " field")
    }

    mutating func fixed32() throws -> UInt32 { try r.u32(context) }
    mutating func fixed64() throws -> UInt64 { try r.u64(context) }

    mutating func skip(_ wire: Wire) throws {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: try r.skip(8, context)
        case .fixed32: try r.skip(4, context)
        case .bytes: _ = try bytes()
        }
    }

    /// A reader over a nested message.
    func sub(_ range: Range<Int>, _ context: String) -> ProtobufReader {
        ProtobufReader(ByteReader(r.storage, file: r.file, range: range), context: context)
    }

    func string(_ range: Range<Int>) throws -> String { try r.string(range, context) }
}
