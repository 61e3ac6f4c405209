import GraftKernels

public typealias Activation = GraftKernels.Activation

/// Activation functions on oneDNN's eltwise primitives (JIT, full vector width).
extension Tensor {
    public func activation(_ kind: Activation) throws -> Tensor {
        let out = try Tensor(uninitializedShape: shape)
        try Kernels.eltwiseForward(kind, count: count, src: pointer, dst: out.pointer)
        return out.recorded("\(kind)", [self]) { [self] g in
            let dx = try Tensor(uninitializedShape: self.shape)
            try Kernels.eltwiseBackward(kind, count: self.count, src: self.pointer, diffDst: g.pointer, diffSrc: dx.pointer)
            return [dx]
        }
    }

    public func relu() throws -> Tensor { try activation(.relu) }
    public func relu6() throws -> Tensor { try activation(.relu6) }
    /// GELU, exact (erf) form as in BERT and PyTorch's default.
    public func gelu() throws -> Tensor { try activation(.gelu) }
    public func silu() throws -> Tensor { try activation(.silu) }
    public func hardswish() throws -> Tensor { try activation(.hardswish) }
    public func sigmoid() throws -> Tensor { try activation(.sigmoid) }
    public func tanh() throws -> Tensor { try activation(.tanh) }
}
