import GraftKernels
import GraftTensor

/// A padded batch [B, L, H] whose rows are real tokens then padding, packed into [T, H] with only the T real
/// tokens: a transformer layer's linears, norms and feed-forward treat tokens independently, so on the packed rows
/// they skip the padding's work, and attention sees each sequence as its own run of rows (`sequences`).
struct PackedTokens {
    let batch: Int, length: Int
    /// Sequence i's rows in the packed tensor: offset, and its real-token count as queries and keys.
    let sequences: [AttentionSequence]
    var tokens: Int { sequences.last.map { $0.offset + $0.queries } ?? 0 }
    /// Each packed row's row in the padded batch flattened to [B * L, H]: sequence i's tokens are rows i * L ..<.
    var paddedRows: [Int] { sequences.enumerated().flatMap { i, s in (i * length)..<(i * length + s.queries) } }

    /// counts[i]: sequence i's real tokens (1...length).
    init(batch: Int, length: Int, counts: [Int]) {
        self.batch = batch; self.length = length
        var offset = 0
        sequences = counts.map { n in
            defer { offset += n }
            return AttentionSequence(offset: offset, queries: n, keys: n)
        }
    }

    /// [B, L, H] -> [T, H]: each sequence's real rows, in order.
    func pack(_ x: Tensor) throws -> Tensor {
        let h = x.shape[2]
        let out = try Tensor(uninitializedShape: [tokens, h])
        for (i, s) in sequences.enumerated() {
            (out.pointer + s.offset * h).update(from: x.pointer + i * length * h, count: s.queries * h)
        }
        return out
    }

    /// [T, H] -> [B, L, H], padding rows zero (a padded forward leaves values there that no pooling reads).
    func unpack(_ x: Tensor) throws -> Tensor {
        let h = x.shape[1]
        let out = Tensor.zeros([batch, length, h])
        for (i, s) in sequences.enumerated() {
            (out.pointer + i * length * h).update(from: x.pointer + s.offset * h, count: s.queries * h)
        }
        return out
    }
}
