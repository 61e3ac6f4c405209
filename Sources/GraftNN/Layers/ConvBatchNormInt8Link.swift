import GraftKernels
import GraftTensor

extension ConvBatchNorm {
    /// This unit as one link of an int8 chain (`Kernels.conv2dInt8Chain`) reading an NHWC input of `batch` x `height` x
    /// `width` x `channels`: its folded weights (the caller keeps `folded` alive while the chain runs) and calibrated
    /// quantization. `activation` replaces the unit's own (a ResNet block's ReLU after the residual sum). nil when the
    /// unit is not calibrated or the input does not fit its weight.
    public func int8Link(batch: Int, height: Int, width: Int, channels: Int, activation: Activation?) throws
        -> (link: Kernels.Int8ChainLink, folded: (weight: Tensor, bias: Tensor))? {
        let f = try foldedWeights()
        guard let parameters = conv.int8Parameters(weight: f.weight),
              let g = chainGeometry(batch: batch, height: height, width: width, channels: channels, weight: f.weight) else { return nil }
        let link = Kernels.Int8ChainLink(geometry: g, weight: f.weight.pointer,
                                         weightKey: WeightKey(id: f.weight.storage.id, version: f.weight.storage.version),
                                         bias: f.bias.pointer, activation: activation, parameters: parameters)
        return (link, f)
    }
}

extension ConvBatchNorm {
    /// The convolution's geometry on a `batch` x `height` x `width` x `channels` input with `weight` (OIHW), as a chain
    /// link (int8 or bf16) runs it; nil when the input does not fit the weight.
    func chainGeometry(batch: Int, height: Int, width: Int, channels: Int, weight: Tensor) -> Conv2DGeometry? {
        let o = conv.options(height: height, width: width), k = weight.shape
        let g = Conv2DGeometry(batch: batch, inChannels: channels, outChannels: k[0], height: height, width: width,
                               kernelH: k[2], kernelW: k[3], strideH: o.strideH, strideW: o.strideW, padTop: o.padTop,
                               padBottom: o.padBottom, padLeft: o.padLeft, padRight: o.padRight, dilationH: o.dilationH,
                               dilationW: o.dilationW, groups: o.groups)
        guard g.isValid, g.outHeight > 0, g.outWidth > 0, k[1] * o.groups == channels else { return nil }
        return g
    }

    /// This unit on an fp32 input, writing codes in `next` when a chain will read them (a network's stem handing its
    /// output to the first inverted-residual block: the output written once as bytes, instead of as fp32 that the
    /// block then quantizes in a reorder of its own). fp32 as `forward` when `next` is nil, outside int8 inference,
    /// or when the unit cannot run as an int8 link (not calibrated, recording a tape).
    public func forward(_ x: Tensor, next: ActivationQuantization?, training: Bool) throws -> Int8BlockTensor {
        guard let next, ComputePrecision.current == .int8, !Calibration.isRecording, x.rank == 4, runsFolded(x, training: training),
              let l = try int8Link(batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
                                   activation: activation)
        else { return .fp32(try forward(x, training: training)) }
        let g = l.link.geometry
        return try withExtendedLifetime((l.folded, x)) {
            try Int8BlockTensor.chained([l.link], input: .fp32(x.pointer), shape: [g.batch, g.outHeight, g.outWidth, g.outChannels], next: next)
        }
    }
}
