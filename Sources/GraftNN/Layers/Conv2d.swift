import GraftKernels
import GraftTensor

/// 2-D convolution over NHWC maps with PyTorch's weight layout
/// [out, in/groups, kh, kw] (keys `weight`, `bias`).
public final class Conv2d: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    public let weight: Tensor
    public let bias: Tensor?
    public var options: Conv2DOptions
    /// Fused as a oneDNN post-op at inference.
    public var activation: Activation?
    /// TensorFlow's "SAME" padding, computed from each input's size (EfficientNet).
    public var samePadding = false
    /// The input range calibration saw: with it the layer computes in int8 when inference asks (docs/PRECISION.md).
    public let calibration = InputCalibration()
    let int8Scales = WeightScaleCache()

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, activation: Activation? = nil,
                generator: inout SeededGenerator) {
        // PyTorch default: kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        let fanIn = inChannels / groups * kernel * kernel
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Tensor.uniform([outChannels, inChannels / groups, kernel, kernel], low: -bound, high: bound, generator: &generator)
        weight.requiresGrad = true
        self.bias = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, generator: &generator) : nil
        self.bias?.requiresGrad = true
        options = Conv2DOptions(stride: stride, padding: padding, dilation: dilation, groups: groups)
        self.activation = activation
    }

    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: Int { weight.shape[2] }

    public override var keyedParameters: [(String, Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// The options for an input of this size: explicit padding, or SAME
    /// (output = ceil(input / stride), extra padding on the bottom/right).
    public func options(for x: Tensor) -> Conv2DOptions {
        guard x.rank == 4 else { return options }
        return options(height: x.shape[1], width: x.shape[2])
    }

    /// The options for an NHWC input of `height` x `width`.
    public func options(height: Int, width: Int) -> Conv2DOptions {
        guard samePadding else { return options }
        var o = options
        func pads(_ size: Int, _ stride: Int, _ k: Int, _ d: Int) -> (Int, Int) {
            let out = (size + stride - 1) / stride
            let total = max((out - 1) * stride + (k - 1) * d + 1 - size, 0)
            return (total / 2, total - total / 2)
        }
        (o.padTop, o.padBottom) = pads(height, o.strideH, weight.shape[2], o.dilationH)
        (o.padLeft, o.padRight) = pads(width, o.strideW, weight.shape[3], o.dilationW)
        return o
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if Calibration.isRecording { calibration.observe(x) }
        return try x.conv2d(weight: weight, bias: bias, options: options(for: x), activation: activation,
                            int8: int8Parameters(weight: weight))
    }

    /// How this layer multiplies `weight` (its own, or a folded copy) in int8; nil outside int8 inference or
    /// when the layer was not calibrated.
    public func int8Parameters(weight: Tensor) -> ConvInt8Parameters? {
        int8Scales.parameters(weight: weight, calibration: calibration)
    }
}
