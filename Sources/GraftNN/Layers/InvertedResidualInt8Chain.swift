import Foundation
import GraftKernels
import GraftTensor

/// Inverted-residual blocks in int8 as one chain of oneDNN convolutions (`Kernels.conv2dInt8Chain`, docs/PRECISION.md
/// "int8 blocks"): the input quantized once, the expanded and depthwise tensors kept u8 between the convolutions (the
/// expansion and a 3x3 depthwise as one primitive), the residual summed by the projection. Between consecutive blocks
/// that both run as chains the tensor stays in codes (s8: a linear bottleneck is signed) scaled for the next block's
/// expansion: the projection writes them, and the next block's residual sum reads them in place, so the tensor between
/// blocks is written once as bytes instead of as fp32, copied for the residual and quantized again.
extension FusedInvertedResidual {
    /// Whether chains hand codes to the next block (the default) or write fp32 after every block.
    /// `GRAFT_INT8_BLOCK_CODES=0|1` sets the default.
    @TaskLocal public static var keepsCodesBetweenBlocks: Bool = ProcessInfo.processInfo.environment["GRAFT_INT8_BLOCK_CODES"] != "0"

    /// The quantization this block's chain reads its input in when it will run as a chain (calibrated, int8 inference,
    /// nothing to record), so the previous block may hand it codes. `probe`: a tensor that needs no gradient.
    public func chainInput(training: Bool, probe: Tensor) -> ActivationQuantization? {
        guard ComputePrecision.current == .int8, !Self.fusesAtInt8, Self.keepsCodesBetweenBlocks, !Calibration.isRecording
        else { return nil }
        guard units.allSatisfy({ $0.runsFolded(probe, training: training) && $0.conv.calibration.range != nil }) else { return nil }
        return units[0].conv.calibration.quantization
    }

    /// The block from fp32 or codes, as a chain when it can (codes out when `next` is given), else as its fp32 kernels.
    /// Its input is consumed.
    public func blockForward(_ x: Int8BlockTensor, next: ActivationQuantization?, training: Bool) throws -> Int8BlockTensor {
        if let y = try int8Forward(x, next: next, training: training, consumingInput: true) { return y }
        return .fp32(try blockForward(x.fp32(), training: training, consumingInput: true))
    }

    /// The block in int8 from `x` (fp32 or codes), writing codes in `next` when given (a residual block only when its
    /// input and `next` are both u8 or both s8: the sum is in place), else fp32. nil when a unit is not calibrated or
    /// must record a tape (then the block runs on fp32). `consumingInput`: nobody reads `x` afterwards.
    func int8Forward(_ x: Int8BlockTensor, next: ActivationQuantization?, training: Bool, consumingInput: Bool) throws -> Int8BlockTensor? {
        let shape = x.shape
        guard ComputePrecision.current == .int8, !Self.fusesAtInt8, !Calibration.isRecording, shape.count == 4 else { return nil }
        if case .fp32(let t) = x, !units.allSatisfy({ $0.runsFolded(t, training: training) }) { return nil }
        let n = shape[0]
        var (h, w, c) = (shape[1], shape[2], shape[3])
        var folded: [(weight: Tensor, bias: Tensor)] = [], links: [Kernels.Int8ChainLink] = []
        for unit in units {
            guard let l = try unit.int8Link(batch: n, height: h, width: w, channels: c, activation: unit.activation) else { return nil }
            folded.append(l.folded)
            links.append(l.link)
            (h, w, c) = (l.link.geometry.outHeight, l.link.geometry.outWidth, l.link.geometry.outChannels)
        }
        let outShape = [n, h, w, c], inputQuantization = links[0].parameters.input
        guard let input = x.chainInput(inputQuantization) else { return nil }
        let addsInput = residual && outShape == shape
        if let next, !addsInput {
            return try withExtendedLifetime((folded, x)) { try Int8BlockTensor.chained(links, input: input, shape: outShape, next: next) }
        }
        // Codes out: the input's codes sit in the output buffer (its own when consumed) and are summed in place.
        if let next, let y = try withExtendedLifetime(folded, { try x.summedInPlace(links, next: next, consuming: consumingInput) }) {
            return y
        }
        // fp32 out (the residual in dst first: the chain reads x only to quantize it, before the last link writes over it).
        let y = addsInput ? try x.residualFP32(consuming: consumingInput) : try Tensor(uninitializedShape: outShape)
        try withExtendedLifetime((folded, x)) {
            try Kernels.conv2dInt8Chain(links, input: input, output: .fp32(y.pointer), residual: addsInput ? .destination : .none)
        }
        return .fp32(y)
    }
}
