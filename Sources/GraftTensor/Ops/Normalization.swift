import GraftKernels

/// Batch norm over NHWC (statistics per channel, the last dim) and layer norm
/// over the last dim. Both on oneDNN primitives.
extension Tensor {
    /// Training mode: normalises with batch statistics and returns them
    /// (mean, biased variance) so the caller can update running averages.
    public func batchNormTraining(scale: Tensor, shift: Tensor, epsilon: Float) throws -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let c = shape.last ?? 0
        guard scale.shape == [c], shift.shape == [c] else { throw TensorError.shapeMismatch(op: "batchNorm", lhs: shape, rhs: scale.shape) }
        let rows = count / Swift.max(c, 1)
        let out = try Tensor(uninitializedShape: shape)
        let mean = try Tensor(uninitializedShape: [c]), variance = try Tensor(uninitializedShape: [c])
        try Kernels.batchNormForward(rows: rows, channels: c, src: pointer, scale: scale.pointer, shift: shift.pointer,
                                 mean: mean.pointer, variance: variance.pointer, training: true, epsilon: epsilon, dst: out.pointer)
        let x = self
        out.recorded("batchNorm", [x, scale, shift]) { dy in
            let dx = try Tensor(uninitializedShape: x.shape)
            let dScale = try Tensor(uninitializedShape: [c]), dShift = try Tensor(uninitializedShape: [c])
            try Kernels.batchNormBackward(rows: rows, channels: c, src: x.pointer, diffDst: dy.pointer, scale: scale.pointer,
                                      mean: mean.pointer, variance: variance.pointer, epsilon: epsilon,
                                      diffSrc: dx.pointer, diffScale: dScale.pointer, diffShift: dShift.pointer)
            return [x.needsGrad ? dx : nil, scale.needsGrad ? dScale : nil, shift.needsGrad ? dShift : nil]
        }
        return (out, mean, variance)
    }

    /// Inference mode (frozen statistics): y = (x - mean) / sqrt(var + eps) * scale + shift,
    /// an affine map per channel, differentiable in x, scale and shift.
    public func batchNormInference(scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor, epsilon: Float) throws -> Tensor {
        let c = shape.last ?? 0
        guard scale.shape == [c], shift.shape == [c], mean.shape == [c], variance.shape == [c] else {
            throw TensorError.shapeMismatch(op: "batchNorm (inference)", lhs: shape, rhs: scale.shape)
        }
        if !(GradMode.isEnabled && (scale.needsGrad || shift.needsGrad)) {
            let rows = count / Swift.max(c, 1)
            let out = try Tensor(uninitializedShape: shape)
            try Kernels.batchNormForward(rows: rows, channels: c, src: pointer, scale: scale.pointer, shift: shift.pointer,
                                     mean: mean.pointer, variance: variance.pointer, training: false, epsilon: epsilon, dst: out.pointer)
            let x = self
            return out.recorded("batchNormInference", [x]) { dy in
                let invStd = try Tensor(uninitializedShape: [c])
                for i in 0..<c { invStd.pointer[i] = scale.pointer[i] / (variance.pointer[i] + epsilon).squareRoot() }
                return [try dy * invStd]
            }
        }
        // Trainable affine with frozen statistics: compose from differentiable ops.
        let invStd = try Tensor(uninitializedShape: [c])
        for i in 0..<c { invStd.pointer[i] = 1 / (variance.pointer[i] + epsilon).squareRoot() }
        let normalized = try (self - mean) * invStd
        return try normalized * scale + shift
    }

    /// Layer norm over the last dimension (BERT), with learned gamma and beta.
    public func layerNorm(gamma: Tensor, beta: Tensor, epsilon: Float) throws -> Tensor {
        let cols = shape.last ?? 0
        guard gamma.shape == [cols], beta.shape == [cols] else { throw TensorError.shapeMismatch(op: "layerNorm", lhs: shape, rhs: gamma.shape) }
        let rows = count / Swift.max(cols, 1)
        let out = try Tensor(uninitializedShape: shape)
        let mean = try Tensor(uninitializedShape: [rows]), variance = try Tensor(uninitializedShape: [rows])
        try Kernels.layerNormForward(rows: rows, cols: cols, src: pointer, gamma: gamma.pointer, beta: beta.pointer,
                                 epsilon: epsilon, dst: out.pointer, mean: mean.pointer, variance: variance.pointer)
        let x = self
        return out.recorded("layerNorm", [x, gamma, beta]) { dy in
            let dx = try Tensor(uninitializedShape: x.shape)
            let dg = try Tensor(uninitializedShape: [cols]), db = try Tensor(uninitializedShape: [cols])
            try Kernels.layerNormBackward(rows: rows, cols: cols, src: x.pointer, diffDst: dy.pointer, gamma: gamma.pointer,
                                      mean: mean.pointer, variance: variance.pointer, epsilon: epsilon,
                                      diffSrc: dx.pointer, diffGamma: dg.pointer, diffBeta: db.pointer)
            return [x.needsGrad ? dx : nil, gamma.needsGrad ? dg : nil, beta.needsGrad ? db : nil]
        }
    }
}
