import GraftKernels

/// Softmax and log-softmax over the last dimension.
extension Tensor {
    private func softmaxImpl(log: Bool) throws -> Tensor {
        let cols = shape.last ?? 1
        let rows = count / Swift.max(cols, 1)
        let out = try Tensor(uninitializedShape: shape)
        try Kernels.softmaxForward(rows: rows, cols: cols, src: pointer, dst: out.pointer, log: log)
        return out.recorded(log ? "logSoftmax" : "softmax", [self]) { dy in
            let dx = try Tensor(uninitializedShape: out.shape)
            try Kernels.softmaxBackward(rows: rows, cols: cols, dst: out.pointer, diffDst: dy.pointer, diffSrc: dx.pointer, log: log)
            return [dx]
        }
    }

    public func softmax() throws -> Tensor { try softmaxImpl(log: false) }
    public func logSoftmax() throws -> Tensor { try softmaxImpl(log: true) }

    /// Mean cross-entropy of logits [N, K] against class indices, with
    /// optional label smoothing (PyTorch's definition) and per-class weights.
    public func crossEntropy(labels: IndexTensor, labelSmoothing: Float = 0, classWeights: [Float]? = nil) throws -> Tensor {
        guard rank == 2, labels.count == shape[0] else {
            throw TensorError.shapeMismatch(op: "crossEntropy (logits vs labels)", lhs: shape, rhs: labels.shape)
        }
        let (n, k) = (shape[0], shape[1])
        if let bad = labels.values.first(where: { $0 < 0 || Int($0) >= k }) {
            throw TensorError.invalidArgument(op: "crossEntropy", reason: "label \(bad) outside 0..<\(k)")
        }
        let logp = try logSoftmax()
        // Target distribution: (1 - eps) one-hot + eps / K; weighted rows.
        let target = try Tensor.filled(labelSmoothing / Float(k), [n, k])
        var totalWeight: Float = 0
        for i in 0..<n {
            let y = Int(labels.values[i])
            let w = classWeights?[y] ?? 1
            target.pointer[i * k + y] += 1 - labelSmoothing
            for j in 0..<k { target.pointer[i * k + j] *= w }
            totalWeight += w
        }
        return try (logp * target).sum() * (-1 / totalWeight)
    }
}
