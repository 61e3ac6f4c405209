import GraftKernels
import GraftNN
import GraftTensor
import GraftWeights

/// An image activation inside an exported graph: its value name and NCHW size (the batch is dynamic).
/// Graft computes channels-last; the exported graph is NCHW, the layout every ONNX consumer expects.
public struct ONNXFeatureMap {
    public var name: String
    public var channels: Int, height: Int, width: Int
    public init(_ name: String, channels: Int, height: Int, width: Int) {
        self.name = name; self.channels = channels; self.height = height; self.width = width
    }
}

/// How each layer of GraftNN writes itself as ONNX nodes: the same arithmetic as its inference forward,
/// weights named by their state-dict keys (`nameTensors(of:)`) so a reader can map them back.
extension ONNXGraphBuilder {
    public mutating func conv(_ x: ONNXFeatureMap, _ conv: Conv2d, activation: Activation? = nil) -> ONNXFeatureMap {
        let o = conv.options(height: x.height, width: x.width)
        let (kh, kw) = (conv.weight.shape[2], conv.weight.shape[3])
        var inputs = [x.name, constant("weight", conv.weight)]
        if let b = conv.bias { inputs.append(constant("bias", b)) }
        let y = node("Conv", inputs, [
            ONNXAttribute.ints("kernel_shape", [kh, kw]), ONNXAttribute.ints("strides", [o.strideH, o.strideW]),
            ONNXAttribute.ints("pads", [o.padTop, o.padLeft, o.padBottom, o.padRight]),
            ONNXAttribute.ints("dilations", [o.dilationH, o.dilationW]), ONNXAttribute.int("group", o.groups),
        ])
        let h = (x.height + o.padTop + o.padBottom - o.dilationH * (kh - 1) - 1) / o.strideH + 1
        let w = (x.width + o.padLeft + o.padRight - o.dilationW * (kw - 1) - 1) / o.strideW + 1
        let out = ONNXFeatureMap(y, channels: conv.outChannels, height: h, width: w)
        guard let a = activation ?? conv.activation else { return out }
        return ONNXFeatureMap(self.activation(y, a), channels: out.channels, height: h, width: w)
    }

    public mutating func batchNorm(_ x: String, _ bn: BatchNorm2d) -> String {
        node("BatchNormalization", [x, constant("weight", bn.weight), constant("bias", bn.bias),
                                    constant("running_mean", bn.runningMean), constant("running_var", bn.runningVar)],
             [ONNXAttribute.float("epsilon", bn.epsilon)])
    }

    /// Convolution, batch norm (not folded: the file keeps the trained tensors), activation.
    public mutating func convBatchNorm(_ x: ONNXFeatureMap, _ unit: ConvBatchNorm) -> ONNXFeatureMap {
        var y = conv(x, unit.conv)
        y.name = batchNorm(y.name, unit.bn)
        if let a = unit.activation ?? unit.bn.activation { y.name = activation(y.name, a) }
        return y
    }

    public mutating func activation(_ x: String, _ kind: Activation) -> String {
        switch kind {
        case .relu: return node("Relu", [x])
        case .relu6:
            return node("Clip", [x, constant("zero", shape: [], values: [0]), constant("six", shape: [], values: [6])], name: "relu6")
        case .silu: return node("Mul", [x, node("Sigmoid", [x])], name: "silu")
        case .gelu:
            // 0.5 x (1 + erf(x / sqrt 2)): Gelu itself is opset 20.
            let e = node("Erf", [node("Div", [x, constant("sqrt2", shape: [], values: [Float(2).squareRoot()])])])
            let onePlus = node("Add", [e, constant("one", shape: [], values: [1])])
            return node("Mul", [node("Mul", [x, onePlus]), constant("half", shape: [], values: [0.5])], name: "gelu")
        case .sigmoid: return node("Sigmoid", [x])
        case .tanh: return node("Tanh", [x])
        case .hardswish: return node("HardSwish", [x])
        case .leakyRelu: return node("LeakyRelu", [x], [ONNXAttribute.float("alpha", 0.1)])
        }
    }

    /// y = x W^T + b on [N, in] rows (Gemm, transB as PyTorch stores W).
    public mutating func linear(_ x: String, weight: Tensor, bias: Tensor?) -> String {
        var inputs = [x, constant("weight", weight)]
        if let bias { inputs.append(constant("bias", bias)) }
        return node("Gemm", inputs, [ONNXAttribute.int("transB", 1)])
    }

    /// y = x W^T + b over the last axis of any rank (MatMul with W^T stored, then Add).
    public mutating func matmulLinear(_ x: String, _ layer: Linear) -> String {
        let (o, i) = (layer.outFeatures, layer.inFeatures)
        var wt = [Float](repeating: 0, count: o * i)
        for r in 0..<o { for c in 0..<i { wt[c * o + r] = layer.weight.pointer[r * i + c] } }
        let y = node("MatMul", [x, constant((key(of: layer.weight) ?? "weight") + ".T", shape: [i, o], values: wt)])
        guard let b = layer.bias else { return y }
        return node("Add", [y, constant("bias", b)])
    }

    public mutating func layerNorm(_ x: String, _ norm: LayerNorm) -> String {
        node("LayerNormalization", [x, constant("weight", norm.weight), constant("bias", norm.bias)],
             [ONNXAttribute.int("axis", -1), ONNXAttribute.float("epsilon", norm.epsilon)])
    }

    public mutating func maxPool(_ x: ONNXFeatureMap, kernel: Int, stride: Int, padding: Int) -> ONNXFeatureMap {
        let y = node("MaxPool", [x.name], [ONNXAttribute.ints("kernel_shape", [kernel, kernel]), ONNXAttribute.ints("strides", [stride, stride]),
                                            ONNXAttribute.ints("pads", [padding, padding, padding, padding])])
        let size = { (n: Int) in (n + 2 * padding - kernel) / stride + 1 }
        return ONNXFeatureMap(y, channels: x.channels, height: size(x.height), width: size(x.width))
    }

    /// [N, C, H, W] -> [N, C] mean.
    public mutating func globalAveragePool(_ x: ONNXFeatureMap) -> String {
        node("Flatten", [node("GlobalAveragePool", [x.name])], [ONNXAttribute.int("axis", 1)])
    }

    /// The residual block of MobileNetV2 and EfficientNet-Lite (fused or not, the same arithmetic).
    public mutating func invertedResidual(_ x: ONNXFeatureMap, _ block: FusedInvertedResidual) -> ONNXFeatureMap {
        var h = x
        for unit in block.units { h = convBatchNorm(h, unit) }
        guard block.residual else { return h }
        h.name = node("Add", [h.name, x.name], name: "residual")
        return h
    }
}
