import CDNNL
import CGraftKernels
import Synchronization

/// A oneDNN stream plus reusable scratch buffers. Contexts are pooled so each
/// concurrent caller gets its own stream and scratchpad, and buffers are
/// allocated once and grown, not per call.
final class ExecutionContext: @unchecked Sendable {
    let stream: dnnl_stream_t
    private var buffers: [AlignedBuffer?] = []

    enum Slot: Int { case scratchpad = 0, weights, output, extra }

    init() {
        var s: dnnl_stream_t?
        dnnlCheck(dnnl_stream_create(&s, Runtime.engine.handle, dnnl_stream_default_flags.rawValue), "stream create")
        stream = s!
    }

    /// A buffer of at least `bytes`, stable until the next call with the same slot.
    func buffer(_ slot: Slot, bytes: Int) -> UnsafeMutableRawPointer {
        let i = slot.rawValue
        if buffers.count <= i { buffers += Array(repeating: nil, count: i + 1 - buffers.count) }
        if let b = buffers[i], b.bytes >= bytes { return b.pointer }
        let b = AlignedBuffer(bytes: bytes)
        buffers[i] = b
        return b.pointer
    }

    deinit { dnnl_stream_destroy(stream) }

    private static let pool = Mutex<[ExecutionContext]>([])

    /// Runs body with a context no other thread is using.
    static func with<R>(_ body: (ExecutionContext) -> R) -> R {
        graft_apply_threads()
        let context = pool.withLock { $0.popLast() } ?? ExecutionContext()
        defer { pool.withLock { $0.append(context) } }
        return body(context)
    }

    static func drain() { pool.withLock { $0.removeAll() } }
}
