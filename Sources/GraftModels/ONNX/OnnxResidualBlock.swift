import GraftKernels
import GraftNN
import GraftTensor

/// A residual block of an imported graph (ResNet's basic and bottleneck blocks): two or three convolution steps in a
/// row, the last adding the block's input, or a projection of it (a convolution of the same input, ResNet's
/// `downsample`), before its activation; each intermediate value read by the next step alone. It runs its steps one
/// by one, except at int8, where a calibrated block runs as one int8 chain, as the native ResNet blocks do
/// (`Kernels.conv2dInt8Chain`: the input quantized once, u8 between the convolutions, the shortcut summed by the
/// last one), fp32 in and out.
struct OnnxResidualBlock {
    /// The convolutions in order; the last one carries the residual.
    let path: [OnnxModel.ConvStep]
    /// The shortcut's convolution, nil for an identity shortcut.
    let projection: OnnxModel.ConvStep?

    var input: String { path[0].input }
    var output: String { path[path.count - 1].output }
    var convs: [OnnxModel.ConvStep] { (projection.map { [$0] } ?? []) + path }

    /// The block as one int8 chain, or nil outside int8 inference, while calibrating, or when a convolution is not
    /// calibrated or not a plain 2-D one (then its steps run one by one). `consumingInput`: nobody reads `x` after
    /// the block, so an identity shortcut sums into its buffer.
    func int8Forward(_ x: OnnxValue, kernels: OnnxKernels, consumingInput: Bool) throws -> OnnxValue? {
        guard ComputePrecision.current == .int8, !Calibration.isRecording else { return nil }
        let s = x.shape
        guard s.count == 4, s[0] >= 1 else { return nil }
        guard let (links, outShape) = try OnnxModel.ConvStep.int8Chain(path, kernels: kernels, input: s) else { return nil }
        let input = try x.nhwcTensor()
        let y: Tensor
        let residual: Kernels.Int8ChainResidual
        if let projection {
            guard let link = try projection.int8Link(kernels: kernels, batch: s[0], height: s[2], width: s[3], channels: s[1]),
                  [s[0], link.geometry.outHeight, link.geometry.outWidth, link.geometry.outChannels] == outShape else { return nil }
            y = try Tensor(uninitializedShape: outShape)
            residual = .projection(link)
        } else {
            guard outShape == input.shape else { return nil }
            if consumingInput {
                y = input   // the chain reads it only to quantize it, before the last link writes the sum over it
            } else {
                y = try Tensor(uninitializedShape: outShape)
                y.pointer.update(from: input.pointer, count: input.count)
            }
            residual = .destination
        }
        try withExtendedLifetime((convs, input)) {
            try Kernels.conv2dInt8Chain(links, input: .fp32(input.pointer), output: .fp32(y.pointer), residual: residual)
        }
        return .float(y, channelsLast: true)
    }

    /// `steps` with every residual block (see the type) replaced by one block step where its last convolution ran.
    static func group(_ steps: [OnnxModel.Step], keep: Set<String>) -> [OnnxModel.Step] {
        var readers: [String: Int] = [:]
        for s in steps { for v in s.inputs { readers[v, default: 0] += 1 } }
        func isInternal(_ v: String) -> Bool { readers[v] == 1 && !keep.contains(v) }
        var producer: [String: Int] = [:]
        for (i, s) in steps.enumerated() { if case let .conv(c) = s { producer[c.output] = i } }
        func conv(_ i: Int?) -> OnnxModel.ConvStep? {
            guard let i, case let .conv(c) = steps[i] else { return nil }
            return c
        }
        var blocks: [Int: OnnxResidualBlock] = [:], absorbed = Set<Int>()
        for (i, step) in steps.enumerated() {
            guard case let .conv(last) = step, let r = last.residual, !absorbed.contains(i) else { continue }
            var path = [last], indices = [i]
            while path.count < 3, let p = producer[path[0].input], let c = conv(p), c.residual == nil, isInternal(c.output),
                  !absorbed.contains(p) {
                path.insert(c, at: 0); indices.append(p)
            }
            guard path.count >= 2 else { continue }
            var projection: OnnxModel.ConvStep?
            if r != path[0].input {
                guard let p = producer[r], let d = conv(p), d.input == path[0].input, d.residual == nil, d.fused.activation == nil,
                      isInternal(r), !absorbed.contains(p) else { continue }
                projection = d; indices.append(p)
            }
            guard (path + (projection.map { [$0] } ?? [])).allSatisfy({ $0.fused.weight.rank == 4 }) else { continue }
            blocks[i] = OnnxResidualBlock(path: path, projection: projection)
            absorbed.formUnion(indices)
        }
        return steps.enumerated().compactMap { i, s in
            if let b = blocks[i] { return .residualBlock(b) }
            return absorbed.contains(i) ? nil : s
        }
    }
}

extension OnnxModel.ConvStep {
    /// `steps` as the links of one int8 chain reading an NCHW-shaped input `input`, and the chain's NHWC output
    /// shape; nil when a step cannot be a link (`int8Link`).
    static func int8Chain(_ steps: [Self], kernels: OnnxKernels, input: [Int]) throws -> (links: [Kernels.Int8ChainLink], outShape: [Int])? {
        var links: [Kernels.Int8ChainLink] = []
        var (h, w, c) = (input[2], input[3], input[1])
        for step in steps {
            guard let link = try step.int8Link(kernels: kernels, batch: input[0], height: h, width: w, channels: c) else { return nil }
            links.append(link)
            (h, w, c) = (link.geometry.outHeight, link.geometry.outWidth, link.geometry.outChannels)
        }
        return (links, [input[0], h, w, c])
    }

    /// This step as one link of an int8 chain reading an NHWC input of `batch` x `height` x `width` x `channels`: its
    /// (folded) weight and calibrated quantization; nil when it is not calibrated or the input does not fit.
    func int8Link(kernels: OnnxKernels, batch: Int, height: Int, width: Int, channels: Int) throws -> Kernels.Int8ChainLink? {
        let weight = fused.weight, k = weight.shape
        guard k.count == 4, let parameters = int8Scales.parameters(weight: weight, calibration: calibration) else { return nil }
        let o = try kernels.conv2DOptions(node, input: [batch, channels, height, width], kernel: [k[2], k[3]])
        let g = Conv2DGeometry(batch: batch, inChannels: channels, outChannels: k[0], height: height, width: width,
                               kernelH: k[2], kernelW: k[3], strideH: o.strideH, strideW: o.strideW, padTop: o.padTop,
                               padBottom: o.padBottom, padLeft: o.padLeft, padRight: o.padRight, dilationH: o.dilationH,
                               dilationW: o.dilationW, groups: o.groups)
        guard g.isValid, g.outHeight > 0, g.outWidth > 0, k[1] * o.groups == channels else { return nil }
        return Kernels.Int8ChainLink(geometry: g, weight: UnsafePointer(weight.pointer),
                                     weightKey: WeightKey(id: weight.storage.id, version: weight.storage.version),
                                     bias: fused.bias.map { UnsafePointer($0.pointer) }, activation: fused.activation,
                                     parameters: parameters)
    }
}
