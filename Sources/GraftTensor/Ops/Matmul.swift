import GraftKernels

/// Matrix products on oneDNN's matmul. Batched when both operands have rank
/// > 2 with equal leading dims, or when a rank-2 right operand is shared.
extension Tensor {
    /// a [..., m, k] x b [..., k, n] (or b [k, n] shared across the batch).
    public func matmul(_ b: Tensor, transposeB: Bool = false) throws -> Tensor {
        let a = self
        guard a.rank >= 2, b.rank >= 2 else { throw TensorError.shapeMismatch(op: "matmul", lhs: a.shape, rhs: b.shape) }
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        guard k == kb else { throw TensorError.shapeMismatch(op: "matmul", lhs: a.shape, rhs: b.shape) }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        if b.rank == 2 {
            // Shared right operand: fold the batch into rows.
            let rows = a.count / k
            let out = try Tensor(uninitializedShape: batchA + [m, n])
            try Kernels.matmul(batch: 1, m: rows, n: n, k: k, a: a.pointer, transposeA: false, b: b.pointer,
                           transposeB: transposeB, c: out.pointer)
            return out.recorded("matmul", [a, b]) { g in
                var da: Tensor?, db: Tensor?
                if a.needsGrad {
                    let t = try Tensor(uninitializedShape: a.shape)
                    // dA = dC B^T  (B stored [k,n]) or dC B (B stored [n,k])
                    try Kernels.matmul(batch: 1, m: rows, n: k, k: n, a: g.pointer, transposeA: false, b: b.pointer,
                                   transposeB: !transposeB, c: t.pointer)
                    da = t
                }
                if b.needsGrad {
                    let t = try Tensor(uninitializedShape: b.shape)
                    if transposeB { // dB [n,k] = dC^T A
                        try Kernels.matmul(batch: 1, m: n, n: k, k: rows, a: g.pointer, transposeA: true, b: a.pointer,
                                       transposeB: false, c: t.pointer)
                    } else {        // dB [k,n] = A^T dC
                        try Kernels.matmul(batch: 1, m: k, n: n, k: rows, a: a.pointer, transposeA: true, b: g.pointer,
                                       transposeB: false, c: t.pointer)
                    }
                    db = t
                }
                return [da, db]
            }
        }
        guard batchA == batchB else { throw TensorError.shapeMismatch(op: "matmul (batch dims)", lhs: a.shape, rhs: b.shape) }
        let batch = batchA.reduce(1, *)
        let out = try Tensor(uninitializedShape: batchA + [m, n])
        try Kernels.matmul(batch: batch, m: m, n: n, k: k, a: a.pointer, transposeA: false, b: b.pointer,
                       transposeB: transposeB, c: out.pointer)
        return out.recorded("bmm", [a, b]) { g in
            var da: Tensor?, db: Tensor?
            if a.needsGrad {
                let t = try Tensor(uninitializedShape: a.shape)
                try Kernels.matmul(batch: batch, m: m, n: k, k: n, a: g.pointer, transposeA: false, b: b.pointer,
                               transposeB: !transposeB, c: t.pointer)
                da = t
            }
            if b.needsGrad {
                let t = try Tensor(uninitializedShape: b.shape)
                if transposeB {
                    try Kernels.matmul(batch: batch, m: n, n: k, k: m, a: g.pointer, transposeA: true, b: a.pointer,
                                   transposeB: false, c: t.pointer)
                } else {
                    try Kernels.matmul(batch: batch, m: k, n: n, k: m, a: a.pointer, transposeA: true, b: g.pointer,
                                   transposeB: false, c: t.pointer)
                }
                db = t
            }
            return [da, db]
        }
    }

    /// x [..., in] W[out, in]^T + bias[out]: PyTorch's `nn.Linear` layout.
    public func linear(weight: Tensor, bias: Tensor?) throws -> Tensor {
        guard weight.rank == 2, shape.last == weight.shape[1] else {
            throw TensorError.shapeMismatch(op: "linear", lhs: shape, rhs: weight.shape)
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw TensorError.shapeMismatch(op: "linear (bias)", lhs: [weight.shape[0]], rhs: bias.shape)
        }
        let y = try matmul(weight, transposeB: true)
        guard let bias else { return y }
        return try y + bias
    }
}
