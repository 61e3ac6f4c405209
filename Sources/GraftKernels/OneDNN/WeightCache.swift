import CDNNL
import Synchronization

/// Identifies the contents of a weight buffer: `id` names the storage, and
/// `version` changes whenever its values change (e.g. after an optimizer step).
public struct WeightKey: Hashable, Sendable {
    public var id: Int
    public var version: Int

    public init(id: Int, version: Int) {
        self.id = id
        self.version = version
    }
}

/// Weights reordered into the blocked layout a convolution or matmul chose, kept per
/// (weight id, use, layout) until the weight's version changes. The layout is the destination
/// descriptor itself, so batch sizes and image sizes whose primitives chose the same blocking share
/// one copy. Bounded by total bytes (`Kernels.cacheLimits.weightBytes`); least recently used
/// entries go first.
final class WeightCache: Sendable {
    enum Use: Int, Sendable { case forward, backwardData, matmul, winograd, int8Linear }

    /// `layout` is the destination descriptor the primitive chose.
    private struct Key: Hashable { let id: Int; let use: Use; let layout: DescriptorBytes }
    private struct Entry { var version: Int; var buffer: AlignedBuffer; var lastUse: UInt64 }
    private struct State { var entries: [Key: Entry] = [:]; var clock: UInt64 = 0; var bytes = 0; var capacity: Int }
    private let state: Mutex<State>

    static let shared = WeightCache(capacityBytes: KernelCacheLimits.default.weightBytes)

    init(capacityBytes: Int) { state = Mutex(State(capacity: capacityBytes)) }

    /// The byte bound; lowering it evicts least recently used copies at once.
    var capacityBytes: Int {
        get { state.withLock { $0.capacity } }
        set {
            state.withLock { s in
                s.capacity = newValue
                Self.evict(&s, toFit: 0)
            }
        }
    }

    /// Drops least recently used copies until `incoming` more bytes fit (buffers still in use by a
    /// running call are freed when it finishes).
    private static func evict(_ s: inout State, toFit incoming: Int) {
        while s.bytes + incoming > s.capacity, let oldest = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            s.bytes -= oldest.value.buffer.bytes
            s.entries[oldest.key] = nil
        }
    }

    /// The weights in `reorder`'s destination layout, reordering only when the
    /// cached copy is missing or stale. Keep the returned buffer alive while using it.
    func reordered(_ weightKey: WeightKey, use: Use, layout: DescriptorBytes, reorder: Primitive,
                   source: UnsafeRawPointer, context: ExecutionContext) throws -> AlignedBuffer {
        try prepared(weightKey, use: use, layout: layout, bytes: MemoryDesc.bytes(reorder.md(dnnl_query_dst_md))) { buffer in
            try run(reorder, source: source, into: buffer, context: context)
        }
    }

    /// A block of `bytes` that `fill` derives from the weight (a reorder, or an int8 linear's s8 weights with
    /// their scales), made again only when the cached one is missing or stale. Keep it alive while using it.
    func prepared(_ weightKey: WeightKey, use: Use, layout: DescriptorBytes, bytes: Int,
                  fill: (AlignedBuffer) throws -> Void) throws -> AlignedBuffer {
        try state.withLock { s in
            s.clock &+= 1
            let key = Key(id: weightKey.id, use: use, layout: layout)
            if var e = s.entries[key] {
                e.lastUse = s.clock
                if e.version != weightKey.version {
                    // Reuse the block unless a caller still reads the old values.
                    if !isKnownUniquelyReferenced(&e.buffer) { e.buffer = try AlignedBuffer(bytes: bytes, for: "reordered weights") }
                    try fill(e.buffer)
                    e.version = weightKey.version
                }
                s.entries[key] = e
                return e.buffer
            }
            Self.evict(&s, toFit: bytes)
            let buffer = try AlignedBuffer(bytes: bytes, for: "reordered weights")
            try fill(buffer)
            s.entries[key] = Entry(version: weightKey.version, buffer: buffer, lastUse: s.clock)
            s.bytes += buffer.bytes
            return buffer
        }
    }

    private func run(_ reorder: Primitive, source: UnsafeRawPointer, into buffer: AlignedBuffer, context: ExecutionContext) throws(KernelError) {
        try reorder.execute(context, [
            PrimitiveArgument(role: DNNL_ARG_FROM, desc: reorder.md(dnnl_query_src_md), data: source),
            PrimitiveArgument(role: DNNL_ARG_TO, desc: reorder.md(dnnl_query_dst_md), data: buffer.pointer),
        ])
    }

    /// Drops every cached copy of one weight (call when its storage is freed).
    func forget(id: Int) {
        state.withLock { s in
            for (k, e) in s.entries where k.id == id {
                s.bytes -= e.buffer.bytes
                s.entries[k] = nil
            }
        }
    }

    func removeAll() { state.withLock { s in s = State(capacity: s.capacity) } }

    var totalBytes: Int { state.withLock { $0.bytes } }
}
