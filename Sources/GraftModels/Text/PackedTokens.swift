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
    let paddedRows: [Int]

    /// counts[i]: sequence i's real tokens (1...length).
    init(batch: Int, length: Int, counts: [Int]) {
        self.batch = batch; self.length = length
        var offset = 0
        sequences = counts.map { n in
            defer { offset += n }
            return AttentionSequence(offset: offset, queries: n, keys: n)
        }
        paddedRows = counts.enumerated().flatMap { i, n in (i * length)..<(i * length + n) }
    }

    /// [B, L, H] -> [T, H]: each sequence's real rows, in order (taped when x needs a gradient).
    func pack(_ x: Tensor) throws -> Tensor { try x.gatherRows(paddedRows) }

    /// [T, H] -> [B, L, H], padding rows zero (a padded forward leaves values there that no pooling reads).
    func unpack(_ x: Tensor) throws -> Tensor {
        try x.scatterRows(paddedRows, count: batch * length).reshaped([batch, length, x.shape[1]])
    }
}
