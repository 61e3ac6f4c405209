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

/// `writeAtomically` for callers outside this module (exported files, checkpoints, manifests), and the
/// clean-up of what a killed writer leaves: SIGKILL between the write and the rename leaves the
/// temporary file `.<name>.<pid>.<random>.tmp`, which the next writer removes once its pid is gone.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        try writeAtomically(to: url) { write in try data.withUnsafeBytes { try write($0) } }
    }

    /// Temporary files of atomic writes in `directory` (to `target` alone when given) whose writer's pid satisfies `owner`.
    public static func temporaryFiles(in directory: URL, for target: String? = nil, ownedBy owner: (pid_t) -> Bool) -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.sorted().compactMap { name in
            guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
            // .<target>.<pid>.<random>.tmp: the pid is the second field from the end.
            let fields = name.dropFirst().dropLast(".tmp".count).split(separator: ".", omittingEmptySubsequences: false)
            guard fields.count >= 3, UInt32(fields[fields.count - 1]) != nil,
                  let pid = pid_t(fields[fields.count - 2]), pid > 0 else { return nil }
            if let target, fields.dropLast(2).joined(separator: ".") != target { return nil }
            return owner(pid) ? directory.appendingPathComponent(name) : nil
        }
    }

    /// Removes the temporary files in `directory` whose writer no longer runs (a live writer's, another
    /// process's or this one's, are left alone); returns what it removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: URL, for target: String? = nil) -> [URL] {
        temporaryFiles(in: directory, for: target, ownedBy: { $0 != getpid() && !processExists($0) })
            .filter { unlink($0.path) == 0 }
    }

    /// Whether a process with this id exists (EPERM: it does, owned by someone else).
    public static func processExists(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
