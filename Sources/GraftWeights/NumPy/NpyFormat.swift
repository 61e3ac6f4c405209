import Foundation

/// The .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// magic `\x93NUMPY`, version, header length (2 bytes in v1, 4 in v2/v3), a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, then the data.
enum NpyFormat {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    static func looksLike(_ buffer: UnsafeRawBufferPointer) -> Bool { buffer.starts(with: magic) }

    struct Header {
        var dtype: DType
        /// True for '>' byte order: the data is byte-swapped on read.
        var bigEndian: Bool
        var fortranOrder: Bool
        var shape: [Int]
    }

    /// Reads the array in `range` of `storage` as a C-order tensor named `name`.
    static func read(_ storage: ByteStorage, range: Range<Int>, name: String, file: String, budget: inout CopyBudget) throws -> StoredTensor {
        var r = ByteReader(storage, file: file, range: range)
        guard r.remaining >= 6, r.bytes(r.position..<(r.position + 6)).elementsEqual(magic) else {
            throw r.malformed("npy '\(name)'", "missing \\x93NUMPY magic")
        }
        try r.skip(6, "npy magic")
        let major = try r.u8("npy version")
        _ = try r.u8("npy version")
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try r.u16("npy header length"))
        case 2, 3: headerLength = try r.needDeclared(UInt64(try r.u32("npy header length")), "npy header length")
        default: throw WeightsError.unsupported(file: file, context: "npy '\(name)'", feature: "format version \(major)")
        }
        let headerRange = try r.take(headerLength, "npy header")
        // v1/v2 headers are latin-1, v3 UTF-8; the keys and values we accept are ASCII either way.
        let text = String(decoding: r.bytes(headerRange), as: UTF8.self)
        let header = try parseHeader(text, file: file, name: name, offset: headerRange.lowerBound)

        guard let n = elementCount(header.shape), let nbytes = byteCount(header.shape, header.dtype) else {
            throw WeightsError.invalidTensor(file: file, tensor: name, reason: "shape \(header.shape) is negative or overflows")
        }
        let dataStart = r.position
        _ = try r.needDeclared(UInt64(nbytes), "npy '\(name)' data (\(header.dtype.rawValue) \(header.shape))")
        if !header.fortranOrder && !header.bigEndian {
            return try StoredTensor(name: name, dtype: header.dtype, shape: header.shape, bytes: storage.view(dataStart, nbytes), file: file)
        }
        try budget.spend(nbytes, "npy '\(name)' reordering")
        let es = header.dtype.byteSize
        var source = storage.view(dataStart, nbytes)
        if header.bigEndian && es > 1 {
            source = ByteStorage(count: nbytes) { out in
                source.withUnsafeBytes { src in
                    for i in stride(from: 0, to: nbytes, by: es) {
                        for j in 0..<es { out[i + j] = src[i + es - 1 - j] }
                    }
                }
            }.view(0, nbytes)
        }
        if header.fortranOrder && header.shape.count > 1 && n > 0 {
            // Column-major: the first index varies fastest.
            var strides = [Int](repeating: 1, count: header.shape.count)
            for i in 1..<header.shape.count { strides[i] = strides[i - 1] * header.shape[i - 1] }
            if header.bigEndian { try budget.spend(nbytes, "npy '\(name)' reordering") }
            let copy = source.withUnsafeBytes { raw in
                raw.baseAddress.map { gatherStrided($0, elementSize: es, shape: header.shape, strides: strides, offset: 0) } ?? .empty
            }
            source = copy.view(0, nbytes)
        }
        return try StoredTensor(name: name, dtype: header.dtype, shape: header.shape, bytes: source, file: file)
    }

    static func parseHeader(_ text: String, file: String, name: String, offset: Int) throws -> Header {
        func bad(_ why: String) -> WeightsError {
            .malformed(file: file, offset: offset, context: "npy '\(name)' header", reason: why)
        }
        var p = PyLiteralParser(Array(text.utf8))
        var descr: String?, fortran: Bool?, shape: [Int]?
        guard p.eat("{") else { throw bad("does not start with '{'") }
        while !p.eat("}") {
            guard let key = p.string() else { throw bad("expected a quoted key") }
            guard p.eat(":") else { throw bad("expected ':' after '\(key)'") }
            switch key {
            case "descr":
                guard let d = p.string() else {
                    throw WeightsError.unsupported(file: file, context: "npy '\(name)'", feature: "structured dtypes")
                }
                descr = d
            case "fortran_order":
                guard let b = p.bool() else { throw bad("fortran_order is not True or False") }
                fortran = b
            case "shape":
                guard let s = p.intTuple() else { throw bad("shape is not a tuple of integers") }
                shape = s
            default: throw bad("unexpected key '\(key)'")
            }
            if !p.eat(",") {
                guard p.eat("}") else { throw bad("expected ',' or '}'") }
                break
            }
        }
        guard let descr, let fortran, let shape else { throw bad("needs descr, fortran_order and shape") }
        guard descr.count >= 2, let order = descr.first, "<>|=".contains(order) else {
            throw WeightsError.unsupported(file: file, context: "npy '\(name)'", feature: "dtype '\(descr)'")
        }
        let kind = String(descr.dropFirst())
        let table: [String: DType] = ["f8": .f64, "f4": .f32, "f2": .f16, "i8": .i64, "i4": .i32, "i2": .i16, "i1": .i8,
                                      "u8": .u64, "u4": .u32, "u2": .u16, "u1": .u8, "b1": .bool]
        guard let dtype = table[kind] else {
            throw WeightsError.unsupported(file: file, context: "npy '\(name)'", feature: "dtype '\(descr)' (object arrays are never unpickled)")
        }
        return Header(dtype: dtype, bigEndian: order == ">", fortranOrder: fortran, shape: shape)
    }

    /// The .npy encoding of `tensor` (version 1 unless the header needs more than 65535 bytes).
    static func encode(_ tensor: StoredTensor) throws -> [UInt8] {
        guard let descr = tensor.dtype.numpyDescr else {
            throw WeightsError.unsupported(file: tensor.name, context: "npy", feature: "dtype \(tensor.dtype.rawValue)")
        }
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        // Pad with spaces and a newline so the data starts on a 64-byte boundary.
        var prefix = 10
        if dict.count + 1 + prefix > 65535 + 10 { prefix = 12 }
        while (prefix + dict.count + 1) % 64 != 0 { dict.append(UInt8(ascii: " ")) }
        dict.append(0x0A)
        var out = magic + [prefix == 10 ? 1 : 2, 0]
        let n = dict.count
        if prefix == 10 {
            out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        } else {
            out += [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
        }
        return out + dict
    }
}

/// Just enough of a Python literal parser for .npy headers.
struct PyLiteralParser {
    private let s: [UInt8]
    private var i = 0

    init(_ s: [UInt8]) { self.s = s }

    private mutating func space() { while i < s.count, s[i] == 0x20 || s[i] == 0x0A || s[i] == 0x09 { i += 1 } }

    mutating func eat(_ c: Character) -> Bool {
        space()
        guard i < s.count, let a = c.asciiValue, s[i] == a else { return false }
        i += 1
        return true
    }

    mutating func string() -> String? {
        space()
        guard i < s.count, s[i] == 0x27 || s[i] == 0x22 else { return nil }
        let quote = s[i]
        let start = i + 1
        var j = start
        while j < s.count, s[j] != quote { j += 1 }
        guard j < s.count else { return nil }
        i = j + 1
        return String(decoding: s[start..<j], as: UTF8.self)
    }

    mutating func bool() -> Bool? {
        space()
        for (word, value) in [("True", true), ("False", false)] where s[i...].starts(with: word.utf8) {
            i += word.utf8.count
            return value
        }
        return nil
    }

    mutating func int() -> Int? {
        space()
        var v = 0, digits = 0
        while i < s.count, s[i] >= 0x30, s[i] <= 0x39 {
            let (a, o1) = v.multipliedReportingOverflow(by: 10)
            let (b, o2) = a.addingReportingOverflow(Int(s[i] - 0x30))
            if o1 || o2 { return nil }
            v = b
            i += 1
            digits += 1
        }
        if i < s.count, s[i] == 0x4C { i += 1 } // Python 2 long suffix
        return digits > 0 ? v : nil
    }

    mutating func intTuple() -> [Int]? {
        guard eat("(") else { return nil }
        var out: [Int] = []
        while !eat(")") {
            guard out.count < 64, let v = int() else { return nil }
            out.append(v)
            if !eat(",") {
                guard eat(")") else { return nil }
                break
            }
        }
        return out
    }
}
