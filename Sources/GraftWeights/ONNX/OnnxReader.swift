/// Reads the weights of an ONNX model: `ModelProto.graph.initializer` tensors and the tensors
/// of `Constant` nodes (exporters such as Paddle2ONNX store every weight that way), in file order.
/// `raw_data` is a zero-copy view of the mapped file; the typed repeated fields
/// (`float_data`, `int32_data`, ...) are decoded within the file's copy budget.
enum OnnxReader {
    static func read(_ storage: ByteStorage, file: String) throws -> (tensors: [StoredTensor], metadata: [String: String]) {
        var model = ProtobufReader(ByteReader(storage, file: file), context: "ONNX ModelProto")
        var metadata: [String: String] = [:]
        var tensors: [StoredTensor] = []
        var budget = CopyBudget(file: file, fileSize: storage.count)
        var sawGraph = false
        while let (field, wire) = try model.next() {
            switch (field, wire) {
            case (1, .varint): metadata["onnx.ir_version"] = String(try model.varint())
            case (2, .bytes): metadata["onnx.producer_name"] = try model.string(try model.bytes())
            case (3, .bytes): metadata["onnx.producer_version"] = try model.string(try model.bytes())
            case (7, .bytes):
                sawGraph = true
                try readGraph(model.sub(try model.bytes(), "ONNX GraphProto"), into: &tensors, budget: &budget, file: file)
            case (8, .bytes):
                var op = model.sub(try model.bytes(), "ONNX OperatorSetIdProto")
                var domain = "", version: UInt64 = 0
                while let (f, w) = try op.next() {
                    switch (f, w) {
                    case (1, .bytes): domain = try op.string(try op.bytes())
                    case (2, .varint): version = try op.varint()
                    default: try op.skip(w)
                    }
                }
                metadata["onnx.opset" + (domain.isEmpty ? "" : "." + domain)] = String(version)
            default: try model.skip(wire)
            }
        }
        guard sawGraph else { throw WeightsError.malformed(file: file, offset: 0, context: "ONNX ModelProto", reason: "no graph") }
        return (tensors, metadata)
    }

    private static func readGraph(_ graph: ProtobufReader, into tensors: inout [StoredTensor], budget: inout CopyBudget, file: String) throws {
        var g = graph
        var constantIndex = 0
        while let (field, wire) = try g.next() {
            switch (field, wire) {
            case (1, .bytes):
                if let t = try readConstantNode(g.sub(try g.bytes(), "ONNX NodeProto"), index: constantIndex, budget: &budget, file: file) {
                    tensors.append(t)
                    constantIndex += 1
                }
            case (5, .bytes):
                tensors.append(try readTensor(g.sub(try g.bytes(), "ONNX TensorProto"), fallbackName: "initializer_\(tensors.count)",
                                              budget: &budget, file: file))
            case (15, .bytes):
                throw WeightsError.unsupported(file: file, context: "ONNX graph", feature: "sparse initializers")
            default: try g.skip(wire)
            }
        }
    }

    /// A `Constant` node's `value` tensor, named after the node's output; nil for any other node.
    private static func readConstantNode(_ node: ProtobufReader, index: Int, budget: inout CopyBudget, file: String) throws -> StoredTensor? {
        var n = node
        var opType = "", output: String?
        var valueRange: Range<Int>?
        while let (field, wire) = try n.next() {
            switch (field, wire) {
            case (2, .bytes): let s = try n.string(try n.bytes()); if output == nil { output = s }
            case (4, .bytes): opType = try n.string(try n.bytes())
            case (5, .bytes):
                var a = n.sub(try n.bytes(), "ONNX AttributeProto")
                var name = "", t: Range<Int>?
                while let (f, w) = try a.next() {
                    switch (f, w) {
                    case (1, .bytes): name = try a.string(try a.bytes())
                    case (5, .bytes): t = try a.bytes()
                    default: try a.skip(w)
                    }
                }
                if name == "value", let t { valueRange = t }
            default: try n.skip(wire)
            }
        }
        guard opType == "Constant", let valueRange else { return nil }
        let name = output ?? "constant_\(index)"
        return try readTensor(n.sub(valueRange, "ONNX TensorProto"), fallbackName: name, forcedName: output, budget: &budget, file: file)
    }

    private static func dtype(_ code: UInt64) -> DType? {
        switch code {
        case 1: return .f32
        case 2: return .u8
        case 3: return .i8
        case 4: return .u16
        case 5: return .i16
        case 6: return .i32
        case 7: return .i64
        case 9: return .bool
        case 10: return .f16
        case 11: return .f64
        case 12: return .u32
        case 13: return .u64
        case 16: return .bf16
        default: return nil
        }
    }

    /// The repeated field that carries values of `dtype` when `raw_data` is absent.
    private static func typedField(_ dtype: DType) -> Int {
        switch dtype {
        case .f32: return 4
        case .i64: return 7
        case .f64: return 10
        case .u32, .u64: return 11
        default: return 5 // int32_data: i32, i16, i8, u16, u8, bool, f16 and bf16 bits
        }
    }

    private static func readTensor(_ message: ProtobufReader, fallbackName: String, forcedName: String? = nil,
                                   budget: inout CopyBudget, file: String) throws -> StoredTensor {
        // Pass 1: shape, type, name, raw_data, and how many typed values each field holds.
        var m = message
        var dims: [Int] = []
        var code: UInt64 = 1
        var name = ""
        var raw: Range<Int>?
        var external = false
        var typedCounts: [Int: Int] = [:]
        while let (field, wire) = try m.next() {
            let at = m.r.position
            switch (field, wire) {
            case (1, .varint):
                dims.append(Int(truncatingIfNeeded: try m.varint()))
            case (1, .bytes):
                var p = m.sub(try m.bytes(), "ONNX TensorProto dims")
                while !p.isAtEnd { dims.append(Int(truncatingIfNeeded: try p.varint())) }
            case (2, .varint): code = try m.varint()
            case (3, _): throw WeightsError.unsupported(file: file, context: "ONNX tensor at offset \(at)", feature: "segmented tensors")
            case (8, .bytes): name = try m.string(try m.bytes())
            case (9, .bytes): raw = try m.bytes()
            case (13, _): external = true; try m.skip(wire)
            case (14, .varint): if try m.varint() == 1 { external = true }
            case (4, .fixed32), (10, .fixed64), (5, .varint), (7, .varint), (11, .varint):
                try m.skip(wire)
                typedCounts[field, default: 0] += 1
            case (4, .bytes), (10, .bytes):
                let range = try m.bytes()
                let width = field == 4 ? 4 : 8
                guard range.count % width == 0 else { throw m.r.malformed("ONNX TensorProto", "packed field \(field) of \(range.count) bytes", at: at) }
                typedCounts[field, default: 0] += range.count / width
            case (5, .bytes), (7, .bytes), (11, .bytes):
                let range = try m.bytes()
                // One varint ends at each byte below 0x80.
                let bytes = m.r.bytes(range)
                guard bytes.last.map({ $0 < 0x80 }) ?? true else { throw m.r.malformed("ONNX TensorProto", "packed varints end mid-value", at: at) }
                typedCounts[field, default: 0] += bytes.reduce(0) { $0 + ($1 < 0x80 ? 1 : 0) }
            default: try m.skip(wire)
            }
        }
        let tensorName = forcedName ?? (name.isEmpty ? fallbackName : name)
        guard !external else { throw WeightsError.unsupported(file: file, context: "ONNX tensor '\(tensorName)'", feature: "external data") }
        guard let dtype = dtype(code) else {
            throw WeightsError.unsupported(file: file, context: "ONNX tensor '\(tensorName)'", feature: "data_type \(code)")
        }
        guard let n = elementCount(dims), let nbytes = byteCount(dims, dtype) else {
            throw WeightsError.invalidTensor(file: file, tensor: tensorName, reason: "dims \(dims) are negative or overflow")
        }
        if let raw {
            return try StoredTensor(name: tensorName, dtype: dtype, shape: dims, bytes: message.r.storage.view(raw.lowerBound, raw.count), file: file)
        }
        let field = typedField(dtype)
        let found = typedCounts[field, default: 0]
        guard found == n, typedCounts.count <= (found > 0 ? 1 : 0) else {
            throw WeightsError.invalidTensor(file: file, tensor: tensorName,
                reason: "\(dtype.rawValue) \(dims) needs \(n) values in field \(field), found \(found)" + (typedCounts.count > 1 ? " and values in other fields" : ""))
        }
        try budget.spend(nbytes, "ONNX tensor '\(tensorName)'")

        // Pass 2: decode the values.
        let out = try ByteStorage(count: nbytes) { buffer in
            var m = message
            var i = 0
            func put(_ v: UInt64) {
                guard i < n else { return } // pass 1 counted exactly n; never write past the buffer
                switch dtype.byteSize {
                case 8: buffer.storeBytes(of: v, toByteOffset: i * 8, as: UInt64.self)
                case 4: buffer.storeBytes(of: UInt32(truncatingIfNeeded: v), toByteOffset: i * 4, as: UInt32.self)
                case 2: buffer.storeBytes(of: UInt16(truncatingIfNeeded: v), toByteOffset: i * 2, as: UInt16.self)
                default: buffer.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
                }
                i += 1
            }
            // The same (field, wire) pairs pass 1 counted.
            while let (f, wire) = try m.next() {
                switch (f == field ? f : 0, wire) {
                case (4, .fixed32): put(UInt64(try m.fixed32()))
                case (10, .fixed64): put(try m.fixed64())
                case (5, .varint), (7, .varint), (11, .varint): put(try m.varint())
                case (4, .bytes), (10, .bytes), (5, .bytes), (7, .bytes), (11, .bytes):
                    var p = m.sub(try m.bytes(), "ONNX TensorProto values")
                    while !p.isAtEnd {
                        switch f {
                        case 4: put(UInt64(try p.fixed32()))
                        case 10: put(try p.fixed64())
                        default: put(try p.varint())
                        }
                    }
                default: try m.skip(wire)
                }
            }
        }
        return try StoredTensor(name: tensorName, dtype: dtype, shape: dims, bytes: out.view(0, nbytes), file: file)
    }
}
