import GraftTensor

extension Tensor {
    /// Nearest-neighbour upsampling of an NHWC map by an integer factor (Darknet's `[upsample]`,
    /// PyTorch's `Upsample(scale_factor=s, mode="nearest")`). Without a tape it is one copy loop;
    /// with one it is a broadcast (whose gradient, a sum over each s x s block, is exact).
    public func upsampledNearest(_ s: Int) throws -> Tensor {
        guard rank == 4 else { throw TensorError.invalidShape(op: "upsampledNearest", shape: shape, reason: "expects NHWC") }
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        if s == 1 { return self }
        if GradMode.isEnabled && needsGrad {
            let spread = try reshaped([n, h, 1, w, 1, c]).expanded(to: [n, h, s, w, s, c])
            return try spread.reshaped([n, h * s, w * s, c])
        }
        let out = try Tensor(uninitializedShape: [n, h * s, w * s, c])
        let src = pointer, dst = out.pointer
        for b in 0..<n {
            for y in 0..<(h * s) {
                let srcRow = src + ((b * h + y / s) * w) * c
                let dstRow = dst + ((b * h * s + y) * w * s) * c
                for x in 0..<(w * s) {
                    (dstRow + x * c).update(from: srcRow + (x / s) * c, count: c)
                }
            }
        }
        return out
    }
}
