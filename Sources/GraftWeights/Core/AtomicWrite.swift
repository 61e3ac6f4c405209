import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers see either the old file or the complete new one: the bytes go
/// to a temporary file in the same directory, are flushed to disk, and the file is renamed over
/// `url`. On any failure the temporary file is removed and `url` is untouched.
func writeAtomically(to url: URL, _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
    let path = url.path
    let dir = url.deletingLastPathComponent().path
    let tmp = dir + "/." + url.lastPathComponent + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw WeightsError.cannotWrite(file: path, reason: String(cString: strerror(errno))) }
    var closed = false
    do {
        try body { buffer in
            guard var p = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                let n = Glibc_write(fd, p, min(left, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw WeightsError.cannotWrite(file: path, reason: String(cString: strerror(errno)))
                }
                p += n
                left -= n
            }
        }
        guard fsync(fd) == 0 else { throw WeightsError.cannotWrite(file: path, reason: "fsync: " + String(cString: strerror(errno))) }
        closed = true
        guard close(fd) == 0 else { throw WeightsError.cannotWrite(file: path, reason: "close: " + String(cString: strerror(errno))) }
        guard rename(tmp, path) == 0 else { throw WeightsError.cannotWrite(file: path, reason: "rename: " + String(cString: strerror(errno))) }
    } catch {
        if !closed { close(fd) }
        unlink(tmp)
        throw error
    }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}

/// `writeAtomically` for callers outside this module (exported files).
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        try writeAtomically(to: url) { write in try data.withUnsafeBytes { try write($0) } }
    }
}
