import GraftKernels

/// Softmax and log-softmax over the last dimension.
extension Tensor {
    private func softmaxImpl(log: Bool) -> Tensor {
        let cols = shape.last ?? 1
        let rows = count / Swift.max(cols, 1)
        let out = Tensor(uninitializedShape: shape)
        Kernels.softmaxForward(rows: rows, cols: cols, src: pointer, dst: out.pointer, log: log)
        return out.recorded(log ? "logSoftmax" : "softmax", [self]) { dy in
            let dx = Tensor(uninitializedShape: out.shape)
            Kernels.softmaxBackward(rows: rows, cols: cols, dst: out.pointer, diffDst: dy.pointer, diffSrc: dx.pointer, log: log)
            return [dx]
        }
    }

    public func softmax() -> Tensor { softmaxImpl(log: false) }
    public func logSoftmax() -> Tensor { softmaxImpl(log: true) }

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
        let logp = logSoftmax()
        // Target distribution: (1 - eps) one-hot + eps / K; weighted rows.
        let target = Tensor(repeating: labelSmoothing / Float(k), shape: [n, k])
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
