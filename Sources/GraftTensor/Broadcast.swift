import GraftKernels

/// Numpy-style broadcasting: shapes align on the right; a dimension of 1
/// stretches. Fast paths cover equal shapes, scalars and the common
/// "per-channel" case where one operand is a suffix of the other (NHWC bias).
enum Broadcast {
    static func shape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard da == db || da == 1 || db == 1 else { throw TensorError.shapeMismatch(op: op, lhs: a, rhs: b) }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides of `shape` seen inside `outShape`, 0 along broadcast dimensions.
    static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        let pad = outShape.count - shape.count
        var strides = [Int](repeating: 0, count: outShape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i + pad] = shape[i] == 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }

    /// True when `small` equals the trailing dims of `big` (leading 1s allowed).
    static func isSuffix(_ small: [Int], of big: [Int]) -> Bool {
        var s = small
        while s.first == 1 && s.count > 0 { s.removeFirst() }
        guard s.count <= big.count else { return false }
        return Array(big.suffix(s.count)) == s
    }

    /// Calls `body(outIndex, aOffset, bOffset)` over every output element.
    static func forEach(outShape: [Int], aStrides: [Int], bStrides: [Int], _ body: (Int, Int, Int) -> Void) {
        let total = outShape.reduce(1, *)
        guard total > 0 else { return }
        let rank = outShape.count
        if rank == 0 { body(0, 0, 0); return }
        var index = [Int](repeating: 0, count: rank)
        var ao = 0, bo = 0
        for i in 0..<total {
            body(i, ao, bo)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                ao += aStrides[d]; bo += bStrides[d]
                if index[d] < outShape[d] { break }
                ao -= aStrides[d] * outShape[d]; bo -= bStrides[d] * outShape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

extension Tensor {
    /// Sums a broadcast gradient back down to `target` (the input's shape).
    func sumToShape(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let out = try Tensor.filled(0, target)
        let n = target.reduce(1, *)
        if Broadcast.isSuffix(target, of: shape) {
            let rows = count / Swift.max(n, 1)
            Vector.sumColumns(pointer, rows: rows, cols: n, into: out.pointer)
            return out
        }
        let strides = Broadcast.strides(of: target, in: shape)
        let o = out.pointer, g = pointer
        Broadcast.forEach(outShape: shape, aStrides: strides, bStrides: strides) { i, ao, _ in o[ao] += g[i] }
        return out
    }
}
