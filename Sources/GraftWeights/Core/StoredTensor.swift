/// One tensor as a file stores it: name, element type, shape and raw little-endian bytes in
/// C (row-major) order. Readers make strided PyTorch views and Fortran-order arrays contiguous.
public struct StoredTensor: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Exactly `elementCount * dtype.byteSize` bytes.
    public let bytes: TensorBytes

    /// Builds a tensor, checking that `bytes` holds exactly `shape` elements of `dtype`.
    public init(name: String, dtype: DType, shape: [Int], bytes: TensorBytes) throws {
        try self.init(name: name, dtype: dtype, shape: shape, bytes: bytes, file: "<memory>")
    }

    /// A float32 tensor copied from `floats`.
    public init(name: String, shape: [Int], floats: [Float]) throws {
        try self.init(name: name, dtype: .f32, shape: shape, bytes: TensorBytes(copyingValuesOf: floats))
    }

    init(name: String, dtype: DType, shape: [Int], bytes: TensorBytes, file: String) throws {
        guard let needed = byteCount(shape, dtype) else {
            throw WeightsError.invalidTensor(file: file, tensor: name, reason: "shape \(shape) is negative or overflows")
        }
        guard needed == bytes.count else {
            throw WeightsError.invalidTensor(file: file, tensor: name,
                reason: "\(dtype.rawValue) \(shape) needs \(needed) bytes, found \(bytes.count)")
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Number of elements (1 for a scalar).
    public var elementCount: Int { bytes.count / dtype.byteSize }

    /// The values converted to Float (f16, bf16, f64 and integers are converted; bool is 0 or 1).
    /// Throws nothing for the dtypes GraftWeights reads; the signature leaves room for new ones.
    public func floats() throws -> [Float] {
        let n = elementCount
        return bytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: n) { out, initialized in
                if let p = out.baseAddress { convertToFloat(raw, dtype, n, p) }
                initialized = n
            }
        }
    }

    /// Converts the values to Float straight into `buffer` (for instance a tensor's storage),
    /// which must hold exactly `elementCount` values.
    public func copyFloats(into buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard buffer.count == elementCount else {
            throw WeightsError.invalidTensor(file: "<memory>", tensor: name,
                                             reason: "copyFloats into \(buffer.count) values, the tensor has \(elementCount)")
        }
        guard let out = buffer.baseAddress else { return }
        bytes.withUnsafeBytes { convertToFloat($0, dtype, elementCount, out) }
    }

    /// The values of an integer or bool tensor as Int64 (u64 above Int64.max wraps).
    public func int64s() throws -> [Int64] {
        guard !dtype.isFloatingPoint else {
            throw WeightsError.invalidTensor(file: "<memory>", tensor: name, reason: "int64s() on a \(dtype.rawValue) tensor")
        }
        let n = elementCount
        return bytes.withUnsafeBytes { raw in
            (0..<n).map { i -> Int64 in
                switch dtype {
                case .i64: return raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)
                case .u64: return Int64(bitPattern: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                case .i32: return Int64(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
                case .u32: return Int64(raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                case .i16: return Int64(raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))
                case .u16: return Int64(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                case .i8: return Int64(raw.load(fromByteOffset: i, as: Int8.self))
                case .u8: return Int64(raw[i])
                default: return raw[i] == 0 ? 0 : 1
                }
            }
        }
    }
}
