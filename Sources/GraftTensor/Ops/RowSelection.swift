/// Rows picked out of a matrix and put back, with gradients: how a padded batch [B, L, H] becomes its real tokens
/// [T, H] and back while training (BERT's packed training layers). The last axis is the row; every other axis is
/// flattened into the row index.
extension Tensor {
    /// Rows `rows` of self as a [N, H] matrix (H the last axis), in that order: [rows.count, H]. The gradient is
    /// added back into the rows it came from (a row picked twice gets both).
    public func gatherRows(_ rows: [Int]) throws -> Tensor {
        let (n, h) = try rowShape(op: "gatherRows")
        if let bad = rows.first(where: { !(0..<n).contains($0) }) {
            throw TensorError.invalidArgument(op: "gatherRows", reason: "row \(bad) outside 0..<\(n) of \(shape)")
        }
        let out = try Tensor(uninitializedShape: [rows.count, h])
        for (i, r) in rows.enumerated() { (out.pointer + i * h).update(from: pointer + r * h, count: h) }
        let inShape = shape
        return out.recorded("gatherRows", [self]) { g in
            let d = try Tensor.filled(0, inShape)
            for (i, r) in rows.enumerated() {
                let from = g.pointer + i * h, to = d.pointer + r * h
                for j in 0..<h { to[j] += from[j] }
            }
            return [d]
        }
    }

    /// The inverse placement: a zero [count, H] matrix whose row rows[i] is self's row i (self [rows.count, H],
    /// rows distinct). The gradient is the gradient's rows `rows`.
    public func scatterRows(_ rows: [Int], count: Int) throws -> Tensor {
        let (n, h) = try rowShape(op: "scatterRows")
        guard n == rows.count, count >= 0 else {
            throw TensorError.invalidArgument(op: "scatterRows", reason: "\(rows.count) rows for a \(shape) tensor into \(count) rows")
        }
        if let bad = rows.first(where: { !(0..<count).contains($0) }) {
            throw TensorError.invalidArgument(op: "scatterRows", reason: "row \(bad) outside 0..<\(count)")
        }
        guard Set(rows).count == rows.count else {
            throw TensorError.invalidArgument(op: "scatterRows", reason: "a row is named twice: one would overwrite the other")
        }
        let out = try Tensor.filled(0, [count, h])
        for (i, r) in rows.enumerated() { (out.pointer + r * h).update(from: pointer + i * h, count: h) }
        let inShape = shape
        return out.recorded("scatterRows", [self]) { g in
            let d = try Tensor(uninitializedShape: inShape)
            for (i, r) in rows.enumerated() { (d.pointer + i * h).update(from: g.pointer + r * h, count: h) }
            return [d]
        }
    }

    /// (rows, row width) of self read as a matrix over its last axis.
    private func rowShape(op: String) throws -> (Int, Int) {
        guard let h = shape.last, h > 0 else {
            throw TensorError.invalidShape(op: op, shape: shape, reason: "needs a last axis to read rows of")
        }
        return (count / h, h)
    }
}
