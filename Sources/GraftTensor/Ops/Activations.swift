import GraftKernels

public typealias Activation = GraftKernels.Activation

/// Activation functions on oneDNN's eltwise primitives (JIT, full vector width).
extension Tensor {
    public func activation(_ kind: Activation) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Kernels.eltwiseForward(kind, count: count, src: pointer, dst: out.pointer)
        return out.recorded("\(kind)", [self]) { [self] g in
            let dx = Tensor(uninitializedShape: self.shape)
            Kernels.eltwiseBackward(kind, count: self.count, src: self.pointer, diffDst: g.pointer, diffSrc: dx.pointer)
            return [dx]
        }
    }

    public func relu() -> Tensor { activation(.relu) }
    public func relu6() -> Tensor { activation(.relu6) }
    /// GELU, exact (erf) form as in BERT and PyTorch's default.
    public func gelu() -> Tensor { activation(.gelu) }
    public func silu() -> Tensor { activation(.silu) }
    public func hardswish() -> Tensor { activation(.hardswish) }
    public func sigmoid() -> Tensor { activation(.sigmoid) }
    public func tanh() -> Tensor { activation(.tanh) }
}
