import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a whole file (memory-mapped, read-only) or of a buffer a reader decoded.
///
/// Immutable once built and shared by every `TensorBytes` that views it, so a tensor read
/// from a mapped file keeps the mapping alive and never copies.
final class ByteStorage: @unchecked Sendable {  // unchecked: immutable after init; the bytes are read-only and released once, in deinit
    private enum Release { case none, unmap(UnsafeMutableRawPointer, Int), deallocate(UnsafeMutableRawPointer) }

    let base: UnsafeRawPointer?
    let count: Int
    let isMemoryMapped: Bool
    private let release: Release

    private init(base: UnsafeRawPointer?, count: Int, mapped: Bool, release: Release) {
        self.base = base
        self.count = count
        self.isMemoryMapped = mapped
        self.release = release
    }

    deinit {
        switch release {
        case .none: break
        case let .unmap(p, n): munmap(p, n)
        case let .deallocate(p): p.deallocate()
        }
    }

    static let empty = ByteStorage(base: nil, count: 0, mapped: false, release: .none)

    /// Maps `url` read-only. Refuses anything that is not a regular file (a FIFO would block).
    static func map(_ url: URL) throws -> ByteStorage {
        let path = url.path
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw WeightsError.cannotRead(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw WeightsError.cannotRead(file: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw WeightsError.cannotRead(file: path, reason: "not a regular file")
        }
        let size = Int(st.st_size)
        if size == 0 { return .empty }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw WeightsError.cannotRead(file: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        return ByteStorage(base: UnsafeRawPointer(p), count: size, mapped: true, release: .unmap(p, size))
    }

    /// Copies `bytes` into a new buffer.
    convenience init(copying bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let src = bytes.baseAddress else {
            self.init(base: nil, count: 0, mapped: false, release: .none)
            return
        }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        p.copyMemory(from: src, byteCount: bytes.count)
        self.init(base: UnsafeRawPointer(p), count: bytes.count, mapped: false, release: .deallocate(p))
    }

    /// Allocates `count` bytes (64-byte aligned) and lets `fill` write all of them.
    convenience init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        guard count > 0 else {
            self.init(base: nil, count: 0, mapped: false, release: .none)
            return
        }
        let p = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: p, count: count))
        } catch {
            p.deallocate()
            throw error
        }
        self.init(base: UnsafeRawPointer(p), count: count, mapped: false, release: .deallocate(p))
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// A view of `count` bytes at `offset`; the caller has checked the range.
    func view(_ offset: Int, _ count: Int) -> TensorBytes {
        TensorBytes(storage: self, offset: offset, count: count)
    }
}
