/// Reshape, permute, transpose, concat and slice. Reshape is free (it shares
/// storage); the others copy into a new contiguous tensor.
extension Tensor {
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else { throw TensorError.invalidShape(op: "reshape", shape: newShape, reason: "cannot infer -1 for \(count) values") }
            s[i] = count / known
        }
        guard s.reduce(1, *) == count else { throw TensorError.shapeMismatch(op: "reshape", lhs: shape, rhs: newShape) }
        let inShape = shape
        return Tensor(shape: s, storage: storage).recorded("reshape", [self]) { g in [Tensor(shape: inShape, storage: g.storage)] }
    }

    public func flattened(fromAxis axis: Int = 1) throws -> Tensor {
        try reshaped(Array(shape[..<axis]) + [shape[axis...].reduce(1, *)])
    }

    /// Reorders dimensions: result dim i is input dim `order[i]`.
    public func permuted(_ order: [Int]) throws -> Tensor {
        guard order.sorted() == Array(0..<rank) else { throw TensorError.invalidArgument(op: "permute", reason: "\(order) is not a permutation of \(rank) axes") }
        let outShape = order.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let srcStrides = order.map { inStrides[$0] }
        let out = try Tensor(uninitializedShape: outShape)
        let x = pointer, o = out.pointer
        Broadcast.forEach(outShape: outShape, aStrides: srcStrides, bStrides: srcStrides) { i, a, _ in o[i] = x[a] }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in order.enumerated() { inverse[p] = i }
        return out.recorded("permute", [self]) { g in [try g.permuted(inverse)] }
    }

    public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        let ax = try normalizedAxes([a], op: "transpose")[0], bx = try normalizedAxes([b], op: "transpose")[0]
        var order = Array(0..<rank); order.swapAt(ax, bx)
        return try permuted(order)
    }

    /// Concatenates along `axis`; all other dims must match.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument(op: "concat", reason: "no tensors") }
        let a = try first.normalizedAxes([axis], op: "concat")[0]
        for t in tensors where t.rank != first.rank || (0..<first.rank).contains(where: { $0 != a && t.shape[$0] != first.shape[$0] }) {
            throw TensorError.shapeMismatch(op: "concat", lhs: first.shape, rhs: t.shape)
        }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let out = try Tensor(uninitializedShape: outShape)
        let rowOut = outShape[a] * inner
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            let rowIn = t.shape[a] * inner
            for i in 0..<outer { (out.pointer + i * rowOut + offset).update(from: t.pointer + i * rowIn, count: rowIn) }
            offset += rowIn
        }
        return out.recorded("concat", tensors) { g in
            try tensors.enumerated().map { idx, t in
                guard t.needsGrad else { return nil }
                let d = try Tensor(uninitializedShape: t.shape)
                let rowIn = t.shape[a] * inner
                for i in 0..<outer { (d.pointer + i * rowIn).update(from: g.pointer + i * rowOut + offsets[idx], count: rowIn) }
                return d
            }
        }
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) throws -> Tensor {
        let a = try normalizedAxes([axis], op: "slice")[0]
        guard range.lowerBound >= 0, range.upperBound <= shape[a] else {
            throw TensorError.invalidArgument(op: "slice", reason: "range \(range) outside 0..<\(shape[a]) on axis \(axis) of \(shape)")
        }
        var outShape = shape; outShape[a] = range.count
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let out = try Tensor(uninitializedShape: outShape)
        let rowIn = shape[a] * inner, rowOut = range.count * inner, start = range.lowerBound * inner
        for i in 0..<outer { (out.pointer + i * rowOut).update(from: pointer + i * rowIn + start, count: rowOut) }
        let inShape = shape
        return out.recorded("slice", [self]) { g in
            let d = try Tensor.filled(0, inShape)
            for i in 0..<outer { (d.pointer + i * rowIn + start).update(from: g.pointer + i * rowOut, count: rowOut) }
            return [d]
        }
    }
}
