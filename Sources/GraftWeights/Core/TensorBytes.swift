import Foundation

/// Read-only bytes of one tensor: a view into a memory-mapped file where the format allows
/// (safetensors, PyTorch storages, .npy, ONNX raw_data), or into a buffer the reader filled.
///
/// The view keeps its file mapping alive; it is never written through.
public struct TensorBytes: Sendable, RandomAccessCollection {
    let storage: ByteStorage
    let offset: Int
    public let count: Int

    init(storage: ByteStorage, offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// Copies `bytes` into a new buffer.
    public init(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        let s = array.withUnsafeBytes { ByteStorage(copying: $0) }
        self.init(storage: s, offset: 0, count: array.count)
    }

    /// Copies the bytes of `values` (native, little-endian on supported platforms).
    public init<T: BitwiseCopyable>(copyingValuesOf values: [T]) {
        let s = values.withUnsafeBytes { ByteStorage(copying: $0) }
        self.init(storage: s, offset: 0, count: s.count)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "TensorBytes index out of range")
        return storage.base.unsafelyUnwrapped.load(fromByteOffset: offset + position, as: UInt8.self)
    }

    /// True when these bytes are read straight from a memory-mapped file.
    public var isMemoryMapped: Bool { storage.isMemoryMapped }

    /// Calls `body` with the bytes; the pointer is valid only inside `body` and may be unaligned.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard count > 0, let base = storage.base else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try withExtendedLifetime(storage) {
            try body(UnsafeRawBufferPointer(start: base + offset, count: count))
        }
    }

    /// A copy as `Data`.
    public var data: Data { withUnsafeBytes { Data($0) } }
}
