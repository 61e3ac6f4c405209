import GraftKernels

/// Stride, padding and dilation of a 2-D convolution or pooling window.
public struct Conv2DOptions: Hashable, Sendable {
    public var stride: (Int, Int) { (strideH, strideW) }
    public var strideH: Int, strideW: Int
    /// top, bottom, left, right (asymmetric "same" padding is allowed).
    public var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int

    public init(stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
        strideH = stride; strideW = stride
        padTop = padding; padBottom = padding; padLeft = padding; padRight = padding
        dilationH = dilation; dilationW = dilation
        self.groups = groups
    }

    public init(strideH: Int, strideW: Int, padTop: Int, padBottom: Int, padLeft: Int, padRight: Int,
                dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1) {
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
        self.dilationH = dilationH; self.dilationW = dilationW; self.groups = groups
    }
}

extension Tensor {
    func convGeometry(weight: Tensor, options o: Conv2DOptions) throws -> Conv2DGeometry {
        guard rank == 4, weight.rank == 4 else { throw TensorError.shapeMismatch(op: "conv2d", lhs: shape, rhs: weight.shape) }
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        guard o.groups >= 1, c % o.groups == 0, weight.shape[0] % o.groups == 0, weight.shape[1] * o.groups == c else {
            throw TensorError.shapeMismatch(op: "conv2d (input NHWC vs weight OIHW, groups \(o.groups))", lhs: shape, rhs: weight.shape)
        }
        let g = Conv2DGeometry(batch: n, inChannels: c, outChannels: weight.shape[0], height: h, width: w,
                               kernelH: weight.shape[2], kernelW: weight.shape[3], strideH: o.strideH, strideW: o.strideW,
                               padTop: o.padTop, padBottom: o.padBottom, padLeft: o.padLeft, padRight: o.padRight,
                               dilationH: o.dilationH, dilationW: o.dilationW, groups: o.groups)
        guard g.outHeight > 0, g.outWidth > 0 else {
            throw TensorError.invalidShape(op: "conv2d", shape: shape, reason: "kernel \(weight.shape) leaves no output")
        }
        return g
    }

    /// 2-D convolution: self is NHWC, weight is PyTorch's [out, in/groups, kh, kw].
    /// `activation` fuses a pointwise function as a oneDNN post-op (inference only:
    /// with a tape the activation runs as its own op so its gradient is exact).
    /// 3x3 stride-1 layers run by Winograd where oneDNN has it (`Kernels.winogradEnabled`) when the
    /// weights are not being trained: its weight transform (cached per weight version) costs
    /// 47-91 ms for a 512x512x3x3 kernel, more than it saves on a weight that changes every step.
    /// Backward passes use the direct algorithm.
    /// `int8`: how this layer's input and weight quantize when the precision is int8 (a calibrated layer,
    /// docs/PRECISION.md); without it the layer computes in fp32 there.
    public func conv2d(weight: Tensor, bias: Tensor?, options: Conv2DOptions = .init(), activation: Activation? = nil,
                       int8: ConvInt8Parameters? = nil) throws -> Tensor {
        let g = try convGeometry(weight: weight, options: options)
        if let bias, bias.shape != [g.outChannels] {
            throw TensorError.shapeMismatch(op: "conv2d (bias)", lhs: [g.outChannels], rhs: bias.shape)
        }
        let recording = GradMode.isEnabled && (needsGrad || weight.needsGrad || (bias?.needsGrad ?? false))
        let out = try Tensor(uninitializedShape: [g.batch, g.outHeight, g.outWidth, g.outChannels])
        try Kernels.conv2dForward(g, src: pointer, weight: weight.pointer,
                              weightKey: WeightKey(id: weight.storage.id, version: weight.storage.version),
                              bias: bias?.pointer, dst: out.pointer, activation: recording ? nil : activation,
                              winograd: !(GradMode.isEnabled && weight.needsGrad),
                              precision: ComputePrecision.forOp(recording: recording), int8: int8)
        let x = self
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        out.recorded("conv2d", inputs) { dy in
            var dx: Tensor?, dw: Tensor?, db: Tensor?
            if x.needsGrad {
                let t = try Tensor(uninitializedShape: x.shape)
                try Kernels.conv2dBackwardData(g, weight: weight.pointer,
                                           weightKey: WeightKey(id: weight.storage.id, version: weight.storage.version),
                                           diffDst: dy.pointer, diffSrc: t.pointer)
                dx = t
            }
            if weight.needsGrad || (bias?.needsGrad ?? false) {
                let t = try Tensor(uninitializedShape: weight.shape)
                let b = try bias.map { try Tensor(uninitializedShape: $0.shape) }
                try Kernels.conv2dBackwardWeights(g, src: x.pointer, diffDst: dy.pointer, diffWeight: t.pointer, diffBias: b?.pointer)
                dw = weight.needsGrad ? t : nil
                db = (bias?.needsGrad ?? false) ? b : nil
            }
            return bias == nil ? [dx, dw] : [dx, dw, db]
        }
        if recording, let activation { return try out.activation(activation) }
        return out
    }
}

extension Tensor {
    /// act(conv2d(self) + bias + residual): the end of a residual block. Without
    /// a tape the add and the activation run inside the convolution as oneDNN
    /// post-ops (sum, then eltwise); with one they run as their own ops so the
    /// gradients are exact.
    ///
    /// `consumingResidual`: the caller promises nobody reads `residual` after
    /// this call, so (on the inference path) its buffer becomes the output's
    /// instead of being copied first. The residual is never written when it
    /// needs a gradient or shares its buffer with `self`.
    public func conv2d(weight: Tensor, bias: Tensor?, options: Conv2DOptions = .init(), adding residual: Tensor,
                       activation: Activation? = nil, consumingResidual: Bool = false, int8: ConvInt8Parameters? = nil) throws -> Tensor {
        let g = try convGeometry(weight: weight, options: options)
        let outShape = [g.batch, g.outHeight, g.outWidth, g.outChannels]
        if let bias, bias.shape != [g.outChannels] {
            throw TensorError.shapeMismatch(op: "conv2d (bias)", lhs: [g.outChannels], rhs: bias.shape)
        }
        guard residual.shape == outShape else {
            throw TensorError.shapeMismatch(op: "conv2d (residual vs output)", lhs: outShape, rhs: residual.shape)
        }
        let recording = GradMode.isEnabled
            && (needsGrad || weight.needsGrad || (bias?.needsGrad ?? false) || residual.needsGrad)
        if recording {
            let sum = try conv2d(weight: weight, bias: bias, options: options) + residual
            return try activation.map { try sum.activation($0) } ?? sum
        }
        let out: Tensor
        if consumingResidual && !residual.needsGrad && residual.storage !== storage {
            out = Tensor(shape: outShape, storage: residual.storage)
            residual.storage.markModified()
        } else {
            out = try Tensor(uninitializedShape: outShape)
            out.pointer.update(from: residual.pointer, count: residual.count)
        }
        try Kernels.conv2dForward(g, src: pointer, weight: weight.pointer,
                              weightKey: WeightKey(id: weight.storage.id, version: weight.storage.version),
                              bias: bias?.pointer, dst: out.pointer, activation: activation, accumulate: true, winograd: true,
                              precision: ComputePrecision.current, int8: int8)
        return out
    }
}
