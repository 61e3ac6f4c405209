import Foundation
import GraftKernels
import GraftNN
import GraftTensor

/// ResNet blocks in bf16 as one chain of oneDNN convolutions (`Kernels.conv2dBF16Chain`, docs/PRECISION.md "How bf16
/// runs"): the block's input is converted to bf16 once, conv1 and conv2 write bf16 for the next convolution, and the
/// last convolution writes fp32 with the shortcut summed and the block's ReLU after it (the downsample projection
/// reads the same bf16 input). Op by op, each convolution converted its fp32 input to bf16 first.
extension ResNetBlock {
    /// Whether blocks run as bf16 chains at bf16 inference (the default) or op by op. Task-local so tests and
    /// benchmarks can run both; `GRAFT_BF16_RESNET_CHAINS=0|1` sets the default.
    @TaskLocal public static var chainsAtBF16: Bool = ProcessInfo.processInfo.environment["GRAFT_BF16_RESNET_CHAINS"] != "0"

    /// The block as a bf16 chain; nil outside bf16 inference (a tape to record, calibration, another precision).
    /// `consumingInput`: nobody reads `x` afterwards, so an identity shortcut's buffer takes the output.
    func bf16Forward(_ x: Tensor, training: Bool, consumingInput: Bool) throws -> Tensor? {
        guard ComputePrecision.current == .bf16, Self.chainsAtBF16, !Calibration.isRecording, x.rank == 4 else { return nil }
        let units = path + (shortcut.map { [$0] } ?? [])
        guard units.allSatisfy({ $0.runsFolded(x, training: training) }) else { return nil }
        guard let chain = try chainLinks(x.shape, link: { unit, n, h, w, c, activation in
            try unit.bf16Link(batch: n, height: h, width: w, channels: c, activation: activation)
        }) else { return nil }
        var folded = chain.folded
        let links = chain.links, outShape = chain.outShape
        if let shortcut {
            guard let s = try shortcut.bf16Link(batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
                                                activation: nil) else { return nil }
            folded.append(s.folded)
            let y = try Tensor(uninitializedShape: outShape)
            try withExtendedLifetime((folded, x)) {
                try Kernels.conv2dBF16Chain(links, src: x.pointer, dst: y.pointer, accumulate: true, projection: s.link)
            }
            return y
        }
        guard outShape == x.shape else { return nil }
        // The identity in dst: x's own buffer when consumed (the chain reads x only to convert it, first), else a copy
        // (as the int8 chains' fp32 residual).
        let y = try Int8BlockTensor.fp32(x).residualFP32(consuming: consumingInput)
        try withExtendedLifetime((folded, x)) {
            try Kernels.conv2dBF16Chain(links, src: x.pointer, dst: y.pointer, accumulate: true)
        }
        return y
    }
}
