import CDNNL
import CGraftKernels
import Synchronization

/// A oneDNN stream plus reusable scratch buffers. Contexts are pooled so each
/// concurrent caller gets its own stream and scratchpad, and buffers are
/// allocated once and grown, not per call.
/// `@unchecked`: its buffers mutate without a lock because the pool hands each context
/// to one caller at a time (`with`), which the compiler cannot see through the pool's Mutex.
final class ExecutionContext: @unchecked Sendable {
    let stream: dnnl_stream_t
    private var buffers: [AlignedBuffer?] = []

    /// `lowPrecisionA` / `lowPrecisionB`: an fp32 operand converted to bf16 for one call.
    /// `int8A` / `int8B`: the u8 tensors between the convolutions of an int8 chain (`conv2dInt8Chain`).
    /// `subsampled`: the pixels a strided 1x1 int8 convolution reads (`Int8ConvPlan.subsample`); `depthwiseBias`: a
    /// fused depthwise convolution's scaled bias.
    enum Slot: Int { case scratchpad = 0, weights, output, extra, lowPrecisionA, lowPrecisionB, int8A, int8B, subsampled, depthwiseBias }

    init() throws(KernelError) {
        var s: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&s, Runtime.engine(), dnnl_stream_default_flags.rawValue), "stream create")
        stream = s!
    }

    /// A buffer of at least `bytes`, stable until the next call with the same slot.
    func buffer(_ slot: Slot, bytes: Int) throws(KernelError) -> UnsafeMutableRawPointer {
        let i = slot.rawValue
        if buffers.count <= i { buffers += Array(repeating: nil, count: i + 1 - buffers.count) }
        if let b = buffers[i], b.bytes >= bytes { return b.pointer }
        buffers[i] = nil  // free the smaller block before asking for the larger one
        let b = try AlignedBuffer(bytes: bytes, for: "\(slot) scratch")
        buffers[i] = b
        return b.pointer
    }

    deinit { dnnl_stream_destroy(stream) }

    private static let pool = Mutex<[ExecutionContext]>([])

    /// Runs body with a context no other thread is using.
    static func with<R>(_ body: (ExecutionContext) throws -> R) throws -> R {
        graft_apply_threads()
        let context = try pool.withLock { $0.popLast() } ?? ExecutionContext()
        defer { pool.withLock { $0.append(context) } }
        return try body(context)
    }

    static func drain() { pool.withLock { $0.removeAll() } }

    /// Scratch bytes held by the idle contexts.
    static var pooledBytes: Int {
        pool.withLock { $0.reduce(0) { $0 + $1.buffers.reduce(0) { $0 + ($1?.bytes ?? 0) } } }
    }
}
