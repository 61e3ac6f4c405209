import GraftKernels
import GraftTensor

extension ConvBatchNorm {
    /// This unit as one link of a bf16 chain (`Kernels.conv2dBF16Chain`) reading an NHWC input of `batch` x `height` x
    /// `width` x `channels`: its folded weights (the caller keeps `folded` alive while the chain runs). `activation`
    /// replaces the unit's own (a ResNet block's ReLU after the residual sum). nil when the input does not fit its weight.
    public func bf16Link(batch: Int, height: Int, width: Int, channels: Int, activation: Activation?) throws
        -> (link: Kernels.BF16ChainLink, folded: (weight: Tensor, bias: Tensor))? {
        let f = try foldedWeights()
        guard let g = chainGeometry(batch: batch, height: height, width: width, channels: channels, weight: f.weight) else { return nil }
        let link = Kernels.BF16ChainLink(geometry: g, weight: f.weight.pointer,
                                         weightKey: WeightKey(id: f.weight.storage.id, version: f.weight.storage.version),
                                         bias: f.bias.pointer, activation: activation)
        return (link, f)
    }
}
