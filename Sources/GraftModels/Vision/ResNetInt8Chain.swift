import Foundation
import GraftKernels
import GraftNN
import GraftTensor

/// ResNet blocks in int8 as one chain of oneDNN convolutions (`Kernels.conv2dInt8Chain`, docs/PRECISION.md "int8
/// blocks"): the block's fp32 input is quantized once, conv1 and conv2 write u8 for the next convolution (ReLU, then
/// / its input scale, as post-ops), and the last convolution writes fp32 with the shortcut added as a sum post-op and
/// the block's ReLU after it. The downsample projection reads the same quantized input.
extension ResNetBlock {
    /// Whether calibrated blocks run as int8 chains (the default) or as separate int8 convolutions with fp32 tensors
    /// between them, each quantizing its input again. Task-local so tests and benchmarks can run both;
    /// `GRAFT_INT8_RESNET_CHAINS=0|1` sets the default.
    @TaskLocal public static var chainsAtInt8: Bool = ProcessInfo.processInfo.environment["GRAFT_INT8_RESNET_CHAINS"] != "0"

    /// The block's output as an int8 chain, or nil when it runs op by op: not int8 inference, a unit not calibrated,
    /// a tape to record or batch statistics in use. `consumingInput`: the identity shortcut's buffer takes the output.
    func int8Forward(_ x: Tensor, training: Bool, consumingInput: Bool) throws -> Tensor? {
        guard ComputePrecision.current == .int8, Self.chainsAtInt8, !Calibration.isRecording, x.rank == 4,
              (path + (shortcut.map { [$0] } ?? [])).allSatisfy({ $0.runsFolded(x, training: training) }) else { return nil }
        let n = x.shape[0]
        var (h, w, c) = (x.shape[1], x.shape[2], x.shape[3])
        var folded: [(weight: Tensor, bias: Tensor)] = [], links: [Kernels.Int8ChainLink] = []
        for (i, unit) in path.enumerated() {
            // The last unit has no activation of its own: the block's ReLU follows the sum.
            let activation = i == path.count - 1 ? Activation.relu : unit.activation
            guard let l = try unit.int8Link(batch: n, height: h, width: w, channels: c, activation: activation) else { return nil }
            folded.append(l.folded)
            links.append(l.link)
            (h, w, c) = (l.link.geometry.outHeight, l.link.geometry.outWidth, l.link.geometry.outChannels)
        }
        let outShape = [n, h, w, c]
        if let shortcut {
            guard let s = try shortcut.int8Link(batch: n, height: x.shape[1], width: x.shape[2], channels: x.shape[3], activation: nil)
            else { return nil }
            folded.append(s.folded)
            let y = try Tensor(uninitializedShape: outShape)
            try withExtendedLifetime(folded) {
                try Kernels.conv2dInt8Chain(links, src: x.pointer, dst: y.pointer, residual: .projection(s.link))
            }
            return y
        }
        guard outShape == x.shape else { return nil }
        let y: Tensor
        if consumingInput && !x.needsGrad {
            // The chain reads x only to quantize it, before its last convolution writes the sum over it.
            y = Tensor(shape: outShape, storage: x.storage)
            x.storage.markModified()
        } else {
            y = try Tensor(uninitializedShape: outShape)
            y.pointer.update(from: x.pointer, count: x.count)
        }
        try withExtendedLifetime(folded) {
            try Kernels.conv2dInt8Chain(links, src: x.pointer, dst: y.pointer, residual: .destination)
        }
        return y
    }
}
