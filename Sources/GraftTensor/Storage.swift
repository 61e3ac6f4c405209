import Foundation
import Synchronization

/// A 64-byte aligned Float32 buffer. Storages are recycled through `BufferPool`
/// so a training step does not pay for fresh zeroed pages on every activation.
public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Unique for the life of the process; with `version` it keys caches of
    /// derived data (oneDNN's reordered conv weights).
    public let id: Int
    /// Bumped by every in-place write (optimizer steps, loading weights).
    public private(set) var version: Int = 0

    private static let nextID = Atomic<Int>(1)

    public init(count: Int) {
        self.count = count
        self.pointer = BufferPool.shared.take(count)
        self.id = Storage.nextID.add(1, ordering: .relaxed).oldValue
    }

    deinit { BufferPool.shared.give(pointer, count) }

    public func markModified() { version &+= 1 }
}

/// Size-bucketed free lists of aligned buffers. Sizes are rounded up to a
/// power-of-two-ish bucket so shapes that differ a little share buffers.
final class BufferPool: Sendable {
    static let shared = BufferPool()
    private struct State {
        var free: [Int: [UInt]] = [:]  // addresses: raw pointers are not Sendable
        var cachedBytes = 0
    }
    private let state = Mutex(State())
    private let limitBytes = 1 << 31

    static func bucket(_ count: Int) -> Int {
        if count <= 1024 { return max(16, (count + 15) & ~15) }
        // Round up to 1/8 steps between powers of two: at most 12.5% waste.
        let high = Int.bitWidth - (count - 1).leadingZeroBitCount
        let step = 1 << max(0, high - 4)
        return (count + step - 1) / step * step
    }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let size = BufferPool.bucket(count)
        if let address = state.withLock({ s -> UInt? in
            guard var list = s.free[size], let p = list.popLast() else { return nil }
            s.free[size] = list
            s.cachedBytes -= size * 4
            return p
        }), let p = UnsafeMutablePointer<Float>(bitPattern: address) { return p }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, size * MemoryLayout<Float>.stride) == 0, let raw else {
            fatalError("out of memory allocating \(size * 4) bytes")
        }
        return raw.bindMemory(to: Float.self, capacity: size)
    }

    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let size = BufferPool.bucket(count)
        let address = UInt(bitPattern: p)
        let kept = state.withLock { s -> Bool in
            guard s.cachedBytes + size * 4 <= limitBytes else { return false }
            s.free[size, default: []].append(address)
            s.cachedBytes += size * 4
            return true
        }
        if !kept { free(p) }
    }

    /// Returns every cached buffer to the system (for memory measurements).
    public func drain() {
        let all = state.withLock { s -> [UInt] in
            let a = s.free.values.flatMap { $0 }
            s.free = [:]; s.cachedBytes = 0
            return a
        }
        all.forEach { free(UnsafeMutableRawPointer(bitPattern: $0)) }
    }
}
