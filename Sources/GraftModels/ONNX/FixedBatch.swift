import GraftTensor

extension Tensor {
    /// `body` on consecutive chunks of exactly `size` rows (axis 0), the last one padded with zero rows whose
    /// results are dropped, concatenated in order: how a graph exported with a fixed batch size (PP-OCR's is 1)
    /// runs any batch, and how a short batch keeps one shape. Built from taped ops, so gradients flow through.
    public func inChunks(of size: Int, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
        let n = shape[0]
        guard size > 0, n != size else { return try body(self) }
        var parts: [Tensor] = []
        for start in stride(from: 0, to: n, by: size) {
            let count = Swift.min(size, n - start)
            var chunk = try slice(axis: 0, start..<(start + count))
            if count < size { chunk = try Tensor.concat([chunk, Tensor.zeros([size - count] + Array(shape.dropFirst()))], axis: 0) }
            let rows = try body(chunk)
            parts.append(count < size ? try rows.slice(axis: 0, 0..<count) : rows)
        }
        return parts.count == 1 ? parts[0] : try Tensor.concat(parts, axis: 0)
    }
}
