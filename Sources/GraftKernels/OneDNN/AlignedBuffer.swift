#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte aligned heap block (oneDNN's preferred alignment), freed on deinit.
/// `@unchecked`: the block is shared between the caches and the kernel that runs on it; every
/// writer holds the owning cache's lock or an execution context no other thread uses.
final class AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let bytes: Int

    /// Throws `KernelError.outOfMemory` when the system has no block of this size (not a trap: a
    /// server answers that request with an error and keeps running).
    init(bytes: Int, for what: @autoclosure () -> String = "a kernel buffer") throws(KernelError) {
        self.bytes = max(bytes, 64)
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, self.bytes) == 0, let raw else {
            throw .outOfMemory(what: what(), bytes: self.bytes)
        }
        pointer = raw
    }

    var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }

    deinit { free(pointer) }
}
