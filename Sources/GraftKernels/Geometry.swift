/// Shape of a 2-D convolution over NHWC activations with PyTorch-layout
/// weights [outChannels, inChannels / groups, kernelH, kernelW].
/// Padding may be asymmetric; dilation 1 means none (PyTorch's meaning).
public struct Conv2DGeometry: Hashable, Sendable, CustomStringConvertible {
    public var batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int

    public init(batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int,
                kernelH: Int, kernelW: Int, strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padBottom: Int = 0, padLeft: Int = 0, padRight: Int = 0,
                dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1) {
        self.batch = batch; self.inChannels = inChannels; self.outChannels = outChannels
        self.height = height; self.width = width; self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
        self.dilationH = dilationH; self.dilationW = dilationW; self.groups = groups
    }

    /// floor((H + padTop + padBottom - dilationH*(kernelH-1) - 1) / strideH) + 1, as PyTorch.
    public var outHeight: Int { Self.outSize(height, padTop + padBottom, kernelH, dilationH, strideH) }
    public var outWidth: Int { Self.outSize(width, padLeft + padRight, kernelW, dilationW, strideW) }

    /// Multiply-adds times two of one forward pass (backward data and weights cost the same).
    public var flops: Double {
        2 * Double(batch * outHeight * outWidth * outChannels) * Double(inChannels / max(groups, 1) * kernelH * kernelW)
    }

    /// Sizes in floats of the NHWC input, the OIHW weights and the NHWC output.
    public var srcCount: Int { batch * height * width * inChannels }
    public var weightCount: Int { outChannels * (inChannels / max(groups, 1)) * kernelH * kernelW }
    public var dstCount: Int { batch * outHeight * outWidth * outChannels }

    /// Whether oneDNN can run it: positive sizes, divisible groups, a non-empty output.
    public var isValid: Bool {
        batch > 0 && inChannels > 0 && outChannels > 0 && height > 0 && width > 0 && kernelH > 0 && kernelW > 0
            && strideH > 0 && strideW > 0 && dilationH > 0 && dilationW > 0 && groups > 0
            && padTop >= 0 && padBottom >= 0 && padLeft >= 0 && padRight >= 0
            && inChannels % groups == 0 && outChannels % groups == 0 && outHeight > 0 && outWidth > 0
    }

    public var description: String {
        "conv2d N\(batch) C\(inChannels)->\(outChannels) \(height)x\(width) k\(kernelH)x\(kernelW) s\(strideH),\(strideW) "
            + "p\(padTop),\(padBottom),\(padLeft),\(padRight) d\(dilationH),\(dilationW) g\(groups)"
    }

    static func outSize(_ size: Int, _ pad: Int, _ kernel: Int, _ dilation: Int, _ stride: Int) -> Int {
        let span = size + pad - dilation * (kernel - 1) - 1
        return span < 0 ? 0 : span / max(stride, 1) + 1
    }
}

/// Shape of a 2-D pooling window over NHWC activations.
public struct Pool2DGeometry: Hashable, Sendable, CustomStringConvertible {
    public var batch: Int, channels: Int, height: Int, width: Int
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int

    public init(batch: Int, channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
                strideH: Int, strideW: Int, padTop: Int = 0, padBottom: Int = 0, padLeft: Int = 0, padRight: Int = 0) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
    }

    /// floor((H + padTop + padBottom - kernelH) / strideH) + 1 (PyTorch, ceil_mode off).
    public var outHeight: Int { Conv2DGeometry.outSize(height, padTop + padBottom, kernelH, 1, strideH) }
    public var outWidth: Int { Conv2DGeometry.outSize(width, padLeft + padRight, kernelW, 1, strideW) }

    public var srcCount: Int { batch * height * width * channels }
    public var dstCount: Int { batch * outHeight * outWidth * channels }

    public var description: String {
        "pool2d N\(batch) C\(channels) \(height)x\(width) k\(kernelH)x\(kernelW) s\(strideH),\(strideW) "
            + "p\(padTop),\(padBottom),\(padLeft),\(padRight)"
    }
}
