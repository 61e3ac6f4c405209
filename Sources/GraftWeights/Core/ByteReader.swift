/// A bounds-checked cursor over part of a `ByteStorage`. Positions are absolute file offsets,
/// so every error names the offset in the file itself.
struct ByteReader {
    let storage: ByteStorage
    let file: String
    let start: Int
    let end: Int
    var position: Int

    init(_ storage: ByteStorage, file: String, range: Range<Int>? = nil) {
        self.storage = storage
        self.file = file
        let r = range ?? 0..<storage.count
        start = r.lowerBound
        end = r.upperBound
        position = r.lowerBound
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }

    /// Throws unless `n` more bytes are available.
    @inline(__always)
    func need(_ n: Int, _ context: @autoclosure () -> String) throws {
        guard n >= 0, n <= end - position else {
            throw WeightsError.truncated(file: file, offset: position, needed: n, context: context())
        }
    }

    /// Throws unless a declared `n` (possibly huge) fits in what is left; use before allocating.
    func needDeclared(_ n: UInt64, _ context: @autoclosure () -> String) throws -> Int {
        guard n <= UInt64(end - position) else {
            throw WeightsError.sizeExceedsFile(file: file, context: context(), declared: n, available: end - position)
        }
        return Int(n)
    }

    @inline(__always)
    private func load<T: FixedWidthInteger>(_: T.Type) -> T {
        T(littleEndian: storage.base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: position, as: T.self))
    }

    mutating func u8(_ context: @autoclosure () -> String) throws -> UInt8 {
        try need(1, context())
        defer { position += 1 }
        return load(UInt8.self)
    }

    mutating func u16(_ context: @autoclosure () -> String) throws -> UInt16 {
        try need(2, context())
        defer { position += 2 }
        return load(UInt16.self)
    }

    mutating func u32(_ context: @autoclosure () -> String) throws -> UInt32 {
        try need(4, context())
        defer { position += 4 }
        return load(UInt32.self)
    }

    mutating func u64(_ context: @autoclosure () -> String) throws -> UInt64 {
        try need(8, context())
        defer { position += 8 }
        return load(UInt64.self)
    }

    /// Consumes `n` bytes and returns their absolute range.
    mutating func take(_ n: Int, _ context: @autoclosure () -> String) throws -> Range<Int> {
        try need(n, context())
        defer { position += n }
        return position..<(position + n)
    }

    mutating func skip(_ n: Int, _ context: @autoclosure () -> String) throws {
        try need(n, context())
        position += n
    }

    func peek() -> UInt8? {
        position < end ? storage.base.unsafelyUnwrapped.load(fromByteOffset: position, as: UInt8.self) : nil
    }

    func byte(at offset: Int) -> UInt8 {
        storage.base.unsafelyUnwrapped.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// Bytes of an absolute range the caller has already bounds-checked.
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        guard let base = storage.base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// UTF-8 text of a checked range, or a `malformed` error when it is not valid UTF-8.
    func string(_ range: Range<Int>, _ context: @autoclosure () -> String) throws -> String {
        guard let s = String(validating: bytes(range), as: UTF8.self) else {
            throw WeightsError.malformed(file: file, offset: range.lowerBound, context: context(), reason: "invalid UTF-8")
        }
        return s
    }

    func malformed(_ context: String, _ reason: String, at offset: Int? = nil) -> WeightsError {
        .malformed(file: file, offset: offset ?? position, context: context, reason: reason)
    }
}
