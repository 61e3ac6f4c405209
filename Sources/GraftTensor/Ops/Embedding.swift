/// Row lookup in an embedding table [vocab, dim] (BERT's word, position and
/// token-type embeddings). The gradient scatters back into the rows used.
extension Tensor {
    public func embedding(_ indices: IndexTensor) throws -> Tensor {
        guard rank == 2 else { throw TensorError.invalidShape(op: "embedding", shape: shape, reason: "table must be [vocab, dim]") }
        let (vocab, dim) = (shape[0], shape[1])
        if let bad = indices.values.first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw TensorError.invalidArgument(op: "embedding", reason: "index \(bad) outside table of \(vocab) rows")
        }
        let out = try Tensor(uninitializedShape: indices.shape + [dim])
        for (i, row) in indices.values.enumerated() {
            (out.pointer + i * dim).update(from: pointer + Int(row) * dim, count: dim)
        }
        let tableShape = shape
        return out.recorded("embedding", [self]) { g in
            let d = try Tensor.filled(0, tableShape)
            for (i, row) in indices.values.enumerated() {
                let dst = d.pointer + Int(row) * dim, src = g.pointer + i * dim
                for k in 0..<dim { dst[k] += src[k] }
            }
            return [d]
        }
    }
}
