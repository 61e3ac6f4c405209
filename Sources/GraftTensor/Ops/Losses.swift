import Foundation

/// Element-wise losses of outputs against constant targets of the same shape, each the mean over
/// every element (PyTorch's `reduction="mean"`), with exact gradients. Only the outputs get one.
extension Tensor {
    /// `BCEWithLogitsLoss`: mean of `max(x, 0) - x y + log(1 + exp(-|x|))` (the stable form of
    /// `-y log s(x) - (1 - y) log(1 - s(x))`); gradient `(s(x) - y) / n`.
    public func binaryCrossEntropyWithLogits(targets: Tensor) throws -> Tensor {
        try elementwiseLoss("binaryCrossEntropyWithLogits", targets) { x, y in
            let value = Swift.max(x, 0) - x * y + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
            return (value, 1 / (1 + Foundation.exp(-x)) - y)
        }
    }

    /// `MSELoss`: mean of `(x - y)^2`; gradient `2 (x - y) / n`.
    public func meanSquaredError(targets: Tensor) throws -> Tensor {
        try elementwiseLoss("meanSquaredError", targets) { x, y in ((x - y) * (x - y), 2 * (x - y)) }
    }

    /// `HuberLoss(delta)`: mean of `d^2 / 2` where `|d| <= delta`, else `delta (|d| - delta / 2)`,
    /// `d = x - y`; gradient `d` or `delta sign(d)`, over n.
    public func huberLoss(targets: Tensor, delta: Float = 1) throws -> Tensor {
        guard delta > 0 else { throw TensorError.invalidArgument(op: "huberLoss", reason: "delta \(delta) must be positive") }
        return try elementwiseLoss("huberLoss", targets) { x, y in
            let d = x - y
            return Swift.abs(d) <= delta ? (0.5 * d * d, d) : (delta * (Swift.abs(d) - 0.5 * delta), d > 0 ? delta : -delta)
        }
    }

    /// Mean of `f(x, y).value` over every element; the gradient of each output is `f(x, y).derivative / n`.
    private func elementwiseLoss(_ op: String, _ targets: Tensor, _ f: (Float, Float) -> (value: Float, derivative: Float)) throws -> Tensor {
        guard targets.shape == shape else { throw TensorError.shapeMismatch(op: "\(op) (outputs vs targets)", lhs: shape, rhs: targets.shape) }
        let n = count
        guard n > 0 else { throw TensorError.invalidArgument(op: op, reason: "no elements") }
        let x = pointer, y = targets.pointer
        let derivative = try Tensor(uninitializedShape: shape)
        let d = derivative.pointer
        var total = 0.0
        for i in 0..<n {
            let (value, slope) = f(x[i], y[i])
            total += Double(value)
            d[i] = slope / Float(n)
        }
        let out = try Tensor.filled(Float(total / Double(n)), [])
        return out.recorded(op, [self]) { g in
            let scale = g.pointer[0]
            let dx = try Tensor(uninitializedShape: derivative.shape)
            let o = dx.pointer
            for i in 0..<n { o[i] = d[i] * scale }
            return [dx]
        }
    }
}

extension Tensor {
    /// sentence-transformers' `CosineSimilarityLoss`: the mean over rows of `(cos(u_i, v_i) - s_i)^2` for two
    /// `[n, d]` embeddings and target similarities `s` `[n]` (SetFit: 1 for a same-class pair, 0 otherwise).
    /// Each row is divided by its norm clamped at 1e-8, as `torch.cosine_similarity` does; gradients reach
    /// both embeddings.
    public static func cosineSimilarityLoss(_ u: Tensor, _ v: Tensor, similarity: Tensor) throws -> Tensor {
        guard u.rank == 2, u.shape == v.shape, similarity.shape == [u.shape[0]] else {
            throw TensorError.invalidArgument(op: "cosineSimilarityLoss",
                                              reason: "embeddings \(u.shape) and \(v.shape) must be equal [n, d] and similarities \(similarity.shape) [n]")
        }
        func unit(_ x: Tensor) throws -> Tensor {
            try x / x.squared().sum(axes: [1], keepDims: true).sqrt().clamp(min: 1e-8, max: .greatestFiniteMagnitude)
        }
        return try (unit(u) * unit(v)).sum(axes: [1]).meanSquaredError(targets: similarity)
    }
}
