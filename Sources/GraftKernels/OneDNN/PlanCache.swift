import Synchronization

/// Thread-safe map from a shape/config key to what was built for it
/// (primitives, descriptors). Built once under the lock; when full, the least
/// recently used plan is dropped (in-flight users keep theirs alive, and it is
/// freed when the last one finishes). Full means `Kernels.cacheLimits.plansPerKind`
/// entries, read on every insertion so a lowered limit applies at once.
final class PlanCache<Key: Hashable & Sendable, Plan: AnyObject & Sendable>: Sendable {
    private struct Entry { let plan: Plan; var lastUse: UInt64 }
    private struct State { var entries: [Key: Entry] = [:]; var clock: UInt64 = 0 }
    private let state = Mutex(State())

    init() { PlanCaches.register(self) }

    func plan(_ key: Key, build: () throws -> Plan) rethrows -> Plan {
        try state.withLock { s in
            s.clock &+= 1
            if var e = s.entries[key] {
                e.lastUse = s.clock
                s.entries[key] = e
                return e.plan
            }
            let capacity = max(1, KernelCacheLimits.planCapacity.load(ordering: .relaxed))
            while s.entries.count >= capacity, let oldest = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                s.entries[oldest.key] = nil
            }
            let p = try build()
            s.entries[key] = Entry(plan: p, lastUse: s.clock)
            return p
        }
    }

    func removeAll() { state.withLock { $0.entries.removeAll() } }

    var count: Int { state.withLock { $0.entries.count } }
}

/// Every plan cache, for `Kernels.cacheUsage` and `Kernels.clearCaches`.
enum PlanCaches {
    /// Type-erased views of one cache (they are generic over key and plan).
    struct Handle: Sendable { let count: @Sendable () -> Int; let removeAll: @Sendable () -> Void }
    private static let all = Mutex<[Handle]>([])

    static func register<K, P>(_ cache: PlanCache<K, P>) {
        all.withLock { $0.append(Handle(count: { cache.count }, removeAll: { cache.removeAll() })) }
    }

    static var count: Int { all.withLock { $0 }.reduce(0) { $0 + $1.count() } }
    static func removeAll() { all.withLock { $0 }.forEach { $0.removeAll() } }
}
