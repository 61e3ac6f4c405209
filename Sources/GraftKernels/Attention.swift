import CGraftKernels
import Foundation

/// One sequence of a `Kernels.attention` call: rows `offset ..< offset + queries` of the projections and the
/// output; its queries attend to its first `keys` rows (the rest of a padded row block are padding).
public struct AttentionSequence: Sendable, Equatable {
    public var offset: Int
    public var queries: Int
    public var keys: Int

    public init(offset: Int, queries: Int, keys: Int) {
        self.offset = offset; self.queries = queries; self.keys = keys
    }
}

extension Kernels {
    /// Whether inference attention runs on `attention` (one pass per sequence and head, scores in cache) rather than
    /// oneDNN's matmul + softmax + matmul over a [batch, heads, L, L] score tensor. Default: on CPUs without
    /// AVX-512 (oneDNN's ISA), where oneDNN's products run `gemm:jit` (measured faster there, bench/RESULTS.md "Session 20"),
    /// and where AVX-512 runs at AVX2's width (AMD Zen 4: MiniLM 1.02-1.09x in fp32, 1.03-1.09x in bf16, 1.12-1.17x in
    /// int8 on 32-token, 128-token and ragged batches, bench/RESULTS.md "Session 24"); the kernel is AVX2, so on CPUs with
    /// full-width AVX-512 oneDNN's products stay. `GRAFT_FUSED_ATTENTION=1` / `0` forces it either way.
    @TaskLocal public static var fusesAttention: Bool = {
        if let v = ProcessInfo.processInfo.environment["GRAFT_FUSED_ATTENTION"] { return v != "0" }
        return ["sse41", "avx", "avx2", "avx2_vnni"].contains(Runtime.isa) || graft_cpu_splits_512_bit_ops() != 0
    }()

    /// Multi-head self-attention for inference: row r of Q, K and V starts `r * rowStride` floats after `query`,
    /// `key`, `value` (three linears' outputs, or views of one packed Q|K|V buffer), `heads` heads of `headDim` each.
    /// Writes softmax(Q K^T * scale + keyMask) V for each sequence's rows into `output` (heads merged, rows
    /// `outputStride` apart). `keyMask` (optional): additive per key, sequence s's at `keyMask + s * maskStride`.
    /// Parallel over (sequence, head); each query block's scores stay in per-thread scratch.
    public static func attention(query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>, rowStride: Int,
                                 heads: Int, headDim: Int, scale: Float, sequences: [AttentionSequence],
                                 keyMask: UnsafePointer<Float>? = nil, maskStride: Int = 0,
                                 output: UnsafeMutablePointer<Float>, outputStride: Int) throws {
        guard heads > 0, headDim > 0, rowStride >= heads * headDim, outputStride >= heads * headDim else {
            throw KernelError.invalidArguments(primitive: "attention", reason: "heads \(heads) x \(headDim) do not fit rows of \(rowStride) (output \(outputStride))")
        }
        if let bad = sequences.first(where: { $0.keys < 1 || $0.queries < 0 || $0.offset < 0 }) {
            throw KernelError.invalidArguments(primitive: "attention", reason: "\(bad): needs at least one key and no negative offset or count")
        }
        guard !sequences.isEmpty else { return }
        let offsets = sequences.map { Int64($0.offset) }, queries = sequences.map { Int64($0.queries) }
        let keys = sequences.map { Int64($0.keys) }
        graft_apply_threads()
        let status = graft_attention(query, key, value, Int64(rowStride), Int64(heads), Int64(headDim), scale, Int64(sequences.count),
                                     offsets, queries, keys, keyMask, Int64(maskStride), output, Int64(outputStride))
        if status == -1 {
            let longest = sequences.map(\.keys).max() ?? 0
            throw KernelError.outOfMemory(what: "attention scratch", bytes: (headDim + 49) * (longest + 15) * 4)
        }
        if status != 0 { throw KernelError.invalidArguments(primitive: "attention", reason: "invalid sizes") }
    }

    /// The path `attention` takes on this CPU: `avx2` or `portable`.
    public static var attentionISA: String { String(cString: graft_attention_isa()) }

    /// Keeps `attention` on its portable path (`true`) or lets it pick by CPU again: tests check the path other
    /// CPUs take.
    public static func attentionPortableOnly(_ portable: Bool) { graft_attention_cap_isa(portable ? 3 : 0) }
}
