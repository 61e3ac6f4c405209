import Foundation
import GraftKernels
import GraftNN
import GraftTensor

/// ResNet blocks in int8 as one chain of oneDNN convolutions (`Kernels.conv2dInt8Chain`, docs/PRECISION.md "int8
/// blocks"): conv1 and conv2 write u8 for the next convolution (ReLU, then / its input scale, as post-ops), and the
/// last convolution adds the shortcut as a sum post-op with the block's ReLU after it. The downsample projection reads
/// the same quantized input. Between blocks the tensor stays u8 where an identity shortcut lets it: such a block sums
/// its u8 input in place and writes u8 codes scaled for the next block's conv1; projection blocks, the last block and
/// a cut point write fp32.
extension ResNetBlock {
    /// Whether calibrated blocks run as int8 chains (the default) or as separate int8 convolutions with fp32 tensors
    /// between them, each quantizing its input again. Task-local so tests and benchmarks can run both;
    /// `GRAFT_INT8_RESNET_CHAINS=0|1` sets the default.
    @TaskLocal public static var chainsAtInt8: Bool = ProcessInfo.processInfo.environment["GRAFT_INT8_RESNET_CHAINS"] != "0"

    /// Whether chains keep u8 codes between identity blocks (the default), or write fp32 after every block.
    /// `GRAFT_INT8_RESNET_U8=0|1` sets the default.
    @TaskLocal public static var keepsCodesBetweenBlocks: Bool = ProcessInfo.processInfo.environment["GRAFT_INT8_RESNET_U8"] != "0"

    /// The quantization this block's chain reads its input in, when it will run as a chain (calibrated, int8 inference,
    /// nothing to record): the previous block may then hand it u8 codes. `probe`: a tensor without a gradient.
    func chainInput(training: Bool, probe: Tensor) -> ActivationQuantization? {
        guard ComputePrecision.current == .int8, Self.chainsAtInt8, Self.keepsCodesBetweenBlocks, !Calibration.isRecording
        else { return nil }
        let units = path + (shortcut.map { [$0] } ?? [])
        guard units.allSatisfy({ $0.runsFolded(probe, training: training) && $0.conv.calibration.range != nil }) else { return nil }
        return path[0].conv.calibration.quantization
    }

    /// The block from fp32 or codes, as a chain when it can (codes out when `next` is given and the block can write
    /// them), else op by op on fp32. Its input is consumed.
    func forward(_ x: Int8BlockTensor, next: ActivationQuantization?, training: Bool) throws -> Int8BlockTensor {
        if let y = try int8Forward(x, next: next, training: training, consumingInput: true) { return y }
        return .fp32(try forward(x.fp32(), training: training, consumingInput: true))
    }

    /// `int8Forward` from and to fp32.
    func int8Forward(_ x: Tensor, training: Bool, consumingInput: Bool) throws -> Tensor? {
        try int8Forward(.fp32(x), next: nil, training: training, consumingInput: consumingInput)?.fp32()
    }

    /// The block in int8 from `x` (fp32 or codes), writing codes in `next` when given and the block can (an identity
    /// shortcut, u8 in and out), else fp32. nil when the block cannot run as a chain (then `x` must be fp32 to run op by
    /// op). `consumingInput`: nobody reads `x` afterwards, so the identity shortcut's buffer takes the output.
    func int8Forward(_ x: Int8BlockTensor, next: ActivationQuantization?, training: Bool, consumingInput: Bool) throws -> Int8BlockTensor? {
        let shape = x.shape
        guard ComputePrecision.current == .int8, Self.chainsAtInt8, !Calibration.isRecording, shape.count == 4 else { return nil }
        if case .fp32(let t) = x, !(path + (shortcut.map { [$0] } ?? [])).allSatisfy({ $0.runsFolded(t, training: training) }) { return nil }
        let n = shape[0]
        guard let chain = try chainLinks(shape, link: { unit, n, h, w, c, activation in
            try unit.int8Link(batch: n, height: h, width: w, channels: c, activation: activation)
        }) else { return nil }
        var folded = chain.folded
        let links = chain.links, outShape = chain.outShape, inputQuantization = links[0].parameters.input
        guard let input = x.chainInput(inputQuantization) else { return nil }
        if let shortcut {
            guard let s = try shortcut.int8Link(batch: n, height: shape[1], width: shape[2], channels: shape[3], activation: nil)
            else { return nil }
            folded.append(s.folded)
            let y = try Tensor(uninitializedShape: outShape)
            try withExtendedLifetime((folded, x)) {
                try Kernels.conv2dInt8Chain(links, input: input, output: .fp32(y.pointer), residual: .projection(s.link))
            }
            return .fp32(y)
        }
        guard outShape == shape else { return nil }
        // Codes out: the input's codes sit in the output buffer (its own when consumed) and are summed in place.
        if let next, let y = try withExtendedLifetime(folded, { try x.summedInPlace(links, next: next, consuming: consumingInput) }) {
            return y
        }
        // fp32 out: the identity (dequantized when it came as codes) in dst, summed in place when consumed (the chain
        // reads x only to quantize it, before its last convolution writes the sum over it).
        let y = try x.residualFP32(consuming: consumingInput)
        try withExtendedLifetime((folded, x)) {
            try Kernels.conv2dInt8Chain(links, input: input, output: .fp32(y.pointer), residual: .destination)
        }
        return .fp32(y)
    }
}
