import GraftKernels

public typealias PoolKind = GraftKernels.PoolKind

/// Max and average pooling over NHWC maps, plus global and adaptive average.
extension Tensor {
    public func pool2d(_ kind: PoolKind, kernel: (Int, Int), options: Conv2DOptions) throws -> Tensor {
        guard rank == 4 else { throw TensorError.invalidShape(op: "pool2d", shape: shape, reason: "expects NHWC") }
        let g = Pool2DGeometry(batch: shape[0], channels: shape[3], height: shape[1], width: shape[2],
                               kernelH: kernel.0, kernelW: kernel.1, strideH: options.strideH, strideW: options.strideW,
                               padTop: options.padTop, padBottom: options.padBottom, padLeft: options.padLeft,
                               padRight: options.padRight)
        guard g.outHeight > 0, g.outWidth > 0 else {
            throw TensorError.invalidShape(op: "pool2d", shape: shape, reason: "window \(kernel) leaves no output")
        }
        let out = try Tensor(uninitializedShape: [g.batch, g.outHeight, g.outWidth, g.channels])
        let recording = GradMode.isEnabled && needsGrad
        let workspace: PoolWorkspace? = (recording && kind == .max) ? PoolWorkspace() : nil
        try Kernels.pool2dForward(kind: kind, geometry: g, src: pointer, dst: out.pointer, workspace: workspace)
        let inShape = shape
        return out.recorded("pool2d", [self]) { dy in
            let dx = try Tensor(uninitializedShape: inShape)
            try Kernels.pool2dBackward(kind: kind, geometry: g, diffDst: dy.pointer, diffSrc: dx.pointer, workspace: workspace)
            return [dx]
        }
    }

    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
        try pool2d(.max, kernel: (kernel, kernel), options: .init(stride: stride ?? kernel, padding: padding))
    }

    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0, countIncludePad: Bool = true) throws -> Tensor {
        try pool2d(countIncludePad ? .averageIncludingPadding : .averageExcludingPadding, kernel: (kernel, kernel),
                   options: .init(stride: stride ?? kernel, padding: padding))
    }

    /// Mean over H and W: [N, H, W, C] -> [N, C], on oneDNN's (threaded) average pooling.
    public func globalAvgPool2d() throws -> Tensor {
        guard rank == 4 else { throw TensorError.invalidShape(op: "globalAvgPool2d", shape: shape, reason: "expects NHWC") }
        let pooled = try pool2d(.averageIncludingPadding, kernel: (shape[1], shape[2]),
                                options: .init(strideH: shape[1], strideW: shape[2], padTop: 0, padBottom: 0, padLeft: 0, padRight: 0))
        return try pooled.reshaped([shape[0], shape[3]])
    }

    /// PyTorch's AdaptiveAvgPool2d: bin i covers [floor(i*H/out), ceil((i+1)*H/out)).
    public func adaptiveAvgPool2d(outputSize: (Int, Int)) throws -> Tensor {
        guard rank == 4 else { throw TensorError.invalidShape(op: "adaptiveAvgPool2d", shape: shape, reason: "expects NHWC") }
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = outputSize
        if oh == 1 && ow == 1 { return try mean(axes: [1, 2], keepDims: true) }
        if h % oh == 0 && w % ow == 0 {
            return try pool2d(.averageIncludingPadding, kernel: (h / oh, w / ow), options: .init(strideH: h / oh, strideW: w / ow, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0))
        }
        func bins(_ size: Int, _ out: Int) -> [(Int, Int)] {
            (0..<out).map { i in (i * size / out, ((i + 1) * size + out - 1) / out) }
        }
        let hb = bins(h, oh), wb = bins(w, ow)
        let out = try Tensor.filled(0, [n, oh, ow, c])
        let x = pointer, o = out.pointer
        for b in 0..<n { for (i, (h0, h1)) in hb.enumerated() { for (j, (w0, w1)) in wb.enumerated() {
            let dst = o + ((b * oh + i) * ow + j) * c
            let scale = 1 / Float((h1 - h0) * (w1 - w0))
            for y in h0..<h1 { for xx in w0..<w1 { let src = x + ((b * h + y) * w + xx) * c; for k in 0..<c { dst[k] += src[k] * scale } } }
        } } }
        let inShape = shape
        return out.recorded("adaptiveAvgPool2d", [self]) { dy in
            let dx = try Tensor.filled(0, inShape)
            let d = dx.pointer, gy = dy.pointer
            for b in 0..<n { for (i, (h0, h1)) in hb.enumerated() { for (j, (w0, w1)) in wb.enumerated() {
                let src = gy + ((b * oh + i) * ow + j) * c
                let scale = 1 / Float((h1 - h0) * (w1 - w0))
                for y in h0..<h1 { for xx in w0..<w1 { let dst = d + ((b * h + y) * w + xx) * c; for k in 0..<c { dst[k] += src[k] * scale } } }
            } } }
            return [dx]
        }
    }
}
