/// Sum, mean and max over axes; argmax. Reductions view the tensor as
/// [outer, reduced, inner] per axis, which keeps every loop contiguous.
extension Tensor {
    func normalizedAxes(_ axes: [Int], op: String) throws -> [Int] {
        let r = rank
        let norm = try axes.map { a -> Int in
            let n = a < 0 ? a + r : a
            guard n >= 0 && n < r else { throw TensorError.invalidArgument(op: op, reason: "axis \(a) out of range for shape \(shape)") }
            return n
        }
        return Array(Set(norm)).sorted()
    }

    /// Sum over one axis as [outer, n, inner] -> [outer, inner].
    private func sumAxis(_ axis: Int) throws -> Tensor {
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var newShape = shape; newShape[axis] = 1
        let out = try Tensor.filled(0, newShape)
        let x = pointer, o = out.pointer
        for i in 0..<outer {
            let dst = o + i * inner
            for j in 0..<n { let src = x + (i * n + j) * inner; for k in 0..<inner { dst[k] += src[k] } }
        }
        return out
    }

    /// Sum over `axes` (all when nil). Keeps reduced dims as 1 when `keepDims`.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try normalizedAxes(axes ?? Array(0..<rank), op: "sum")
        var result: Tensor = self.detached()
        if ax.count == rank {
            var total: Double = 0
            for i in 0..<count { total += Double(pointer[i]) }
            result = try Tensor.filled(Float(total), Array(repeating: 1, count: rank))
        } else {
            for a in ax { result = try result.sumAxis(a) }
        }
        let keptShape = result.shape
        let finalShape = keepDims ? keptShape : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
        let out = Tensor(shape: finalShape, storage: result.storage)
        let inShape = shape
        return out.recorded("sum", [self]) { g in [try Tensor(shape: keptShape, storage: g.storage).expanded(to: inShape)] }
    }

    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try normalizedAxes(axes ?? Array(0..<rank), op: "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return try sum(axes: ax, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    /// Broadcasts to a larger shape by copying (gradient of `sum`).
    public func expanded(to target: [Int]) throws -> Tensor {
        let zeros = try Tensor.filled(0, target)
        return try zeros + self
    }

    /// Maximum over one axis; the gradient flows to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let a = try normalizedAxes([axis], op: "max")[0]
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        guard n > 0 else { throw TensorError.invalidShape(op: "max", shape: shape, reason: "empty axis \(axis)") }
        var keptShape = shape; keptShape[a] = 1
        let out = try Tensor(uninitializedShape: keptShape)
        var argmax = [Int32](repeating: 0, count: outer * inner)
        let x = pointer, o = out.pointer
        for i in 0..<outer {
            for k in 0..<inner {
                var best = x[i * n * inner + k], bi: Int32 = 0
                for j in 1..<n { let v = x[(i * n + j) * inner + k]; if v > best { best = v; bi = Int32(j) } }
                o[i * inner + k] = best; argmax[i * inner + k] = bi
            }
        }
        let finalShape = keepDims ? keptShape : shape.enumerated().filter { $0.offset != a }.map(\.element)
        let result = Tensor(shape: finalShape, storage: out.storage)
        let inShape = shape
        return result.recorded("max", [self]) { g in
            let dx = try Tensor.filled(0, inShape)
            for i in 0..<outer { for k in 0..<inner {
                dx.pointer[(i * n + Int(argmax[i * inner + k])) * inner + k] = g.pointer[i * inner + k]
            } }
            return [dx]
        }
    }

    /// Index of the maximum along `axis` (no gradient).
    public func argmax(axis: Int = -1) throws -> IndexTensor {
        let a = try normalizedAxes([axis], op: "argmax")[0]
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var result = [Int32](repeating: 0, count: outer * inner)
        let x = pointer
        for i in 0..<outer { for k in 0..<inner {
            var best = -Float.infinity, bi: Int32 = 0
            for j in 0..<n { let v = x[(i * n + j) * inner + k]; if v > best { best = v; bi = Int32(j) } }
            result[i * inner + k] = bi
        } }
        return try IndexTensor(shape: shape.enumerated().filter { $0.offset != a }.map(\.element), values: result)
    }
}
