import Foundation
import GraftKernels
import Synchronization

/// A 64-byte aligned Float32 buffer. Storages are recycled through `BufferPool`
/// so a training step does not pay for fresh zeroed pages on every activation.
/// `@unchecked`: `version` is a plain counter bumped by in-place writes, which Graft's
/// ownership rule (see `Tensor`) confines to the one task that trains or loads the tensor.
public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Unique for the life of the process; with `version` it keys caches of
    /// derived data (oneDNN's reordered conv weights).
    public let id: Int
    /// Bumped by every in-place write (optimizer steps, loading weights).
    public private(set) var version: Int = 0

    private static let nextID = Atomic<Int>(1)

    /// Throws `KernelError.outOfMemory` when the system has no block of this size.
    public init(count: Int) throws(KernelError) {
        self.count = count
        self.pointer = try BufferPool.shared.take(count)
        self.id = Storage.nextID.add(1, ordering: .relaxed).oldValue
    }

    deinit { BufferPool.shared.give(pointer, count) }

    public func markModified() { version &+= 1 }
}

/// Size-bucketed free lists of aligned buffers. Sizes are rounded up to a
/// power-of-two-ish bucket so shapes that differ a little share buffers.
///
/// Bounded two ways, so a long-running server that sees a new input shape on every request keeps
/// flat memory: at most `limits.bytes` of free buffers are kept (the oldest go first), and a free
/// buffer no allocation has reused within the last `limits.age` allocations is returned to the
/// system (a training loop reuses every size each step; one-off request shapes age out).
public final class BufferPool: Sendable {
    /// What the pool may keep; see `BufferPool.limits`.
    public struct Limits: Sendable, Equatable {
        /// Bytes of free buffers kept for reuse.
        public var bytes: Int
        /// Allocations after which an unused free buffer is released.
        public var age: Int

        public init(bytes: Int, age: Int) { self.bytes = bytes; self.age = age }

        /// 1 GiB and 16,384 allocations, or `GRAFT_BUFFER_POOL_MB` / `GRAFT_BUFFER_POOL_AGE`.
        public static let `default` = Limits(
            bytes: (ProcessInfo.processInfo.environment["GRAFT_BUFFER_POOL_MB"].flatMap(Int.init) ?? 1024) << 20,
            age: ProcessInfo.processInfo.environment["GRAFT_BUFFER_POOL_AGE"].flatMap(Int.init) ?? 16_384)
    }

    /// The process-wide pool every `Storage` allocates from.
    public static let shared = BufferPool(limits: .default)

    private struct Free { let address: UInt; let stamp: UInt64 }  // addresses: raw pointers are not Sendable
    private struct State {
        var free: [Int: [Free]] = [:]  // per bucket, oldest first
        var cachedBytes = 0
        var clock: UInt64 = 0  // allocations so far
        var limits: Limits
    }
    private let state: Mutex<State>

    public init(limits: Limits) { state = Mutex(State(limits: limits)) }

    /// The current limits; setting them releases what no longer fits.
    public var limits: Limits {
        get { state.withLock { $0.limits } }
        set {
            let released = state.withLock { s -> [UInt] in
                s.limits = newValue
                return Self.trim(&s)
            }
            released.forEach { free(UnsafeMutableRawPointer(bitPattern: $0)) }
        }
    }

    /// Bytes of free buffers held for reuse.
    public var cachedBytes: Int { state.withLock { $0.cachedBytes } }

    static func bucket(_ count: Int) -> Int {
        if count <= 1024 { return max(16, (count + 15) & ~15) }
        // Round up to 1/8 steps between powers of two: at most 12.5% waste.
        let high = Int.bitWidth - (count - 1).leadingZeroBitCount
        let step = 1 << max(0, high - 4)
        return (count + step - 1) / step * step
    }

    func take(_ count: Int) throws(KernelError) -> UnsafeMutablePointer<Float> {
        let size = BufferPool.bucket(count)
        let (reused, released) = state.withLock { s -> (UInt?, [UInt]) in
            s.clock &+= 1
            var hit: UInt?
            if var list = s.free[size], let p = list.popLast() {
                s.free[size] = list.isEmpty ? nil : list
                s.cachedBytes -= size * 4
                hit = p.address
            }
            // Aging is checked every 64 allocations: cheap, and buffers still leave within 64 of their limit.
            return (hit, s.clock % 64 == 0 ? Self.trim(&s) : [])
        }
        released.forEach { free(UnsafeMutableRawPointer(bitPattern: $0)) }
        if let reused, let p = UnsafeMutablePointer<Float>(bitPattern: reused) { return p }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, size * MemoryLayout<Float>.stride) == 0, let raw else {
            throw .outOfMemory(what: "a tensor of \(count) floats", bytes: size * 4)
        }
        return raw.bindMemory(to: Float.self, capacity: size)
    }

    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let size = BufferPool.bucket(count)
        let released = state.withLock { s -> [UInt] in
            s.free[size, default: []].append(Free(address: UInt(bitPattern: p), stamp: s.clock))
            s.cachedBytes += size * 4
            return Self.trim(&s)
        }
        released.forEach { free(UnsafeMutableRawPointer(bitPattern: $0)) }
    }

    /// Removes buffers past the age limit, then the oldest until the bytes fit; returns them to free
    /// outside the lock.
    private static func trim(_ s: inout State) -> [UInt] {
        var released: [UInt] = []
        let oldestKept = s.clock > UInt64(s.limits.age) ? s.clock - UInt64(s.limits.age) : 0
        if oldestKept > 0 {
            for (size, list) in s.free where list.first.map({ $0.stamp < oldestKept }) == true {
                let stale = list.prefix { $0.stamp < oldestKept }
                released += stale.map(\.address)
                s.cachedBytes -= stale.count * size * 4
                s.free[size] = stale.count == list.count ? nil : Array(list.dropFirst(stale.count))
            }
        }
        while s.cachedBytes > s.limits.bytes, let oldest = s.free.min(by: { $0.value[0].stamp < $1.value[0].stamp }) {
            let size = oldest.key
            var list = oldest.value
            released.append(list.removeFirst().address)
            s.cachedBytes -= size * 4
            s.free[size] = list.isEmpty ? nil : list
        }
        return released
    }

    /// Returns every cached buffer to the system (for memory measurements).
    public func drain() {
        let all = state.withLock { s -> [UInt] in
            let a = s.free.values.flatMap { $0.map(\.address) }
            s.free = [:]; s.cachedBytes = 0
            return a
        }
        all.forEach { free(UnsafeMutableRawPointer(bitPattern: $0)) }
    }
}
