import Synchronization

/// Thread-safe map from a shape/config key to what was built for it
/// (primitives, descriptors). Built once under the lock; when full, the least
/// recently used plan is dropped (in-flight users keep theirs alive).
final class PlanCache<Key: Hashable & Sendable, Plan: AnyObject & Sendable>: Sendable {
    private struct Entry { let plan: Plan; var lastUse: UInt64 }
    private struct State { var entries: [Key: Entry] = [:]; var clock: UInt64 = 0 }
    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 512) { self.capacity = capacity }

    func plan(_ key: Key, build: () throws -> Plan) rethrows -> Plan {
        try state.withLock { s in
            s.clock &+= 1
            if var e = s.entries[key] {
                e.lastUse = s.clock
                s.entries[key] = e
                return e.plan
            }
            if s.entries.count >= capacity, let oldest = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
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
