import Foundation

/// A decoded ONNX tensor: dims and values, widened to the two element kinds an executor needs
/// (float for float/double; int64 for the integer and bool types that shapes, indices and masks use).
public struct OnnxTensorData: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case float([Float])
        case int([Int64])
    }
    public var name: String
    public var shape: [Int]
    public var values: Values
    /// The ONNX `TensorProto.DataType` number the file declared (1 float, 7 int64, 9 bool...).
    public var dataType: Int32

    public init(name: String, shape: [Int], values: Values, dataType: Int32) {
        self.name = name; self.shape = shape; self.values = values; self.dataType = dataType
    }

    /// Refuses element counts past this many (2^31): a hostile file declaring huge dims fails before allocating.
    public static let maxElements = 1 << 31

    /// The element count of `dims`, or nil if a dim is negative or the product overflows `maxElements`.
    public static func elementCount(_ dims: [Int]) -> Int? {
        var n = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else { return nil }
            n = p
        }
        return n
    }

    /// A standalone serialized `TensorProto` (the `.pb` files of the onnx backend test data).
    public init(serializedBytes bytes: Data, file: String) throws {
        let proto: Onnx_TensorProto
        do { proto = try Onnx_TensorProto(serializedBytes: bytes) } catch {
            throw OnnxError.malformed(file: file, reason: "TensorProto: \(error)")
        }
        try self.init(proto, file: file)
    }

    init(_ t: Onnx_TensorProto, file: String, fallbackName: String = "") throws {
        let name = t.name.isEmpty ? fallbackName : t.name
        func bad(_ reason: String) -> OnnxError { .invalidTensor(file: file, tensor: name, reason: reason) }
        if t.hasDataLocation && t.dataLocation == .external || !t.externalData.isEmpty {
            throw bad("external data (weights in a file beside the model) is not supported")
        }
        guard t.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Self.maxElements) }), let count = Self.elementCount(t.dims.map { Int($0) }) else {
            throw bad("dims \(t.dims) are negative or hold more than \(Self.maxElements) elements")
        }
        let shape = t.dims.map { Int($0) }
        let raw = t.hasRawData ? t.rawData : nil
        func rawValues<T>(_ type: T.Type) throws -> [T] {
            guard let raw else { return [] }
            guard raw.count == count * MemoryLayout<T>.size else {
                throw bad("raw_data holds \(raw.count) bytes, dims \(shape) of \(T.self) need \(count * MemoryLayout<T>.size)")
            }
            // Little-endian on every platform Graft runs on; loadUnaligned because raw_data has no alignment.
            return raw.withUnsafeBytes { b in (0..<count).map { b.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        func checked<T>(_ v: [T], _ field: String) throws -> [T] {
            guard v.count == count else { throw bad("\(field) holds \(v.count) values, dims \(shape) need \(count)") }
            return v
        }
        let values: Values
        switch t.dataType {
        case 1: values = .float(raw != nil ? try rawValues(Float.self) : try checked(t.floatData, "float_data"))
        case 11: values = .float((raw != nil ? try rawValues(Double.self) : try checked(t.doubleData, "double_data")).map { Float($0) })
        case 7: values = .int(raw != nil ? try rawValues(Int64.self) : try checked(t.int64Data, "int64_data"))
        case 6: values = .int((raw != nil ? try rawValues(Int32.self) : try checked(t.int32Data, "int32_data")).map { Int64($0) })
        case 3: values = .int((raw != nil ? try rawValues(Int8.self) : try checked(t.int32Data, "int32_data").map { Int8(truncatingIfNeeded: $0) }).map { Int64($0) })
        case 2, 9: values = .int((raw != nil ? try rawValues(UInt8.self) : try checked(t.int32Data, "int32_data").map { UInt8(truncatingIfNeeded: $0) }).map { Int64($0) })
        case 13: values = .int((raw != nil ? try rawValues(UInt64.self) : try checked(t.uint64Data, "uint64_data")).map { Int64(truncatingIfNeeded: $0) })
        default: throw bad("data type \(t.dataType) is not supported (float, double, int8/32/64, uint8, uint64, bool are)")
        }
        self.init(name: name, shape: shape, values: values, dataType: t.dataType)
    }

    public var floats: [Float] {
        switch values { case let .float(v): v; case let .int(v): v.map { Float($0) } }
    }
    public var ints: [Int64] {
        switch values { case let .int(v): v; case let .float(v): v.map { Int64($0) } }
    }
}
