/// Q, K and V rows for `Tensor.packedSelfAttention`: one tensor [..., 3 * H] with them side by side (BERT's packed
/// projection), or three tensors [..., H] from separate linears (int8 with each linear's input smoothed on its own).
public enum AttentionProjections {
    case packed(Tensor)
    case separate(query: Tensor, key: Tensor, value: Tensor)

    var tensors: [Tensor] {
        switch self {
        case .packed(let qkv): [qkv]
        case let .separate(q, k, v): [q, k, v]
        }
    }

    /// The shape before the last axis, H, the floats between consecutive rows, and where Q, K and V start. Throws when
    /// the shapes are not `rank`-dimensional projections for `heads` heads (three tensors: all of one shape).
    func layout(rank: Int, heads: Int, op: String) throws
        -> (leading: [Int], hidden: Int, rowStride: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>) {
        switch self {
        case .packed(let qkv):
            guard qkv.rank == rank, heads > 0, qkv.shape[rank - 1] % (3 * heads) == 0 else {
                throw TensorError.invalidShape(op: op, shape: qkv.shape, reason: "expected [\(rank == 3 ? "B, L" : "tokens"), 3 * heads * d]")
            }
            let hidden = qkv.shape[rank - 1] / 3
            return (Array(qkv.shape.dropLast()), hidden, 3 * hidden, qkv.pointer, qkv.pointer + hidden, qkv.pointer + 2 * hidden)
        case let .separate(q, k, v):
            guard q.rank == rank, heads > 0, q.shape[rank - 1] % heads == 0 else {
                throw TensorError.invalidShape(op: op, shape: q.shape, reason: "expected [\(rank == 3 ? "B, L" : "tokens"), heads * d]")
            }
            guard k.shape == q.shape, v.shape == q.shape else {
                throw TensorError.shapeMismatch(op: "\(op) (key, value)", lhs: q.shape, rhs: k.shape == q.shape ? v.shape : k.shape)
            }
            let hidden = q.shape[rank - 1]
            return (Array(q.shape.dropLast()), hidden, hidden, q.pointer, k.pointer, v.pointer)
        }
    }
}
