import GraftKernels
import GraftNN
import GraftTensor

/// An inverted-residual block of an imported graph (MobileNetV2, EfficientNet-Lite, MnasNet...): an optional
/// 1x1 expansion + ReLU6, a depthwise k x k convolution + ReLU6, a 1x1 projection, plus the block's input when the
/// shapes allow. It runs as the native models run it: the fused kernel (`Kernels.invertedResidualForward`, the
/// expanded tensor never goes to memory) wherever `FusedInvertedResidual`'s size policy fuses the native block,
/// else its convolutions one by one; at int8, as one int8 chain of its calibrated convolutions (`int8Forward`).
struct OnnxInvertedResidual {
    /// Expansion (when there is one), depthwise, projection: the steps run when the block does not fuse.
    let convs: [OnnxModel.ConvStep]
    let input: String
    let output: String
    let residual: Bool
    let inChannels: Int, hidden: Int, outChannels: Int
    let kernel: Int, stride: Int
    let pads: (top: Int, left: Int, bottom: Int, right: Int)
    /// The folded weights in the fused kernel's layout (packed once, at load).
    let packed: Tensor
    /// Their 1x1 weights as bf16 pairs, packed at load where the CPU runs the kernel's bf16 GEMMs.
    let packedBF16: Tensor?

    var hasExpansion: Bool { convs.count == 3 }

    /// The kernel's shape for an input of `batch` x `height` x `width`, when the block is one it handles.
    func shape(batch: Int, height: Int, width: Int) -> InvertedResidualShape? {
        let outH = (height + pads.top + pads.bottom - kernel) / stride + 1, outW = (width + pads.left + pads.right - kernel) / stride + 1
        guard height + pads.top + pads.bottom >= kernel, width + pads.left + pads.right >= kernel else { return nil }
        if residual && (outH != height || outW != width || outChannels != inChannels) { return nil }
        let s = InvertedResidualShape(batch: batch, inHeight: height, inWidth: width, inChannels: inChannels, hidden: hidden,
                                      hasExpansion: hasExpansion, outHeight: outH, outWidth: outW, outChannels: outChannels,
                                      kernel: kernel, stride: stride, padTop: pads.top, padLeft: pads.left)
        return s.isSupported ? s : nil
    }

    /// The block's output by the fused kernel, or nil when the size policy (or the shape) says to run it unfused.
    func fusedForward(_ x: OnnxValue) throws -> OnnxValue? {
        // As the native blocks: the fused kernel serves bf16 inference (bf16 1x1 GEMMs where the CPU has them); calibration
        // records each convolution's input, and a calibrated block runs int8 as a chain (`int8Forward`).
        guard ComputePrecision.current != .bf16 || FusedInvertedResidual.fusesAtLowPrecision else { return nil }
        guard !Calibration.isRecording, ComputePrecision.current != .int8 || !convs.contains(where: { $0.calibration.range != nil })
        else { return nil }
        let s = x.shape
        guard s.count == 4, s[1] == inChannels, s[0] >= 1,
              FusedInvertedResidual.fuses(batch: s[0], side: min(s[2], s[3]), minimumSide: FusedInvertedResidual.minimumSide),
              let shape = shape(batch: s[0], height: s[2], width: s[3]) else { return nil }
        let input = try x.nhwcTensor()
        let y = try Tensor(uninitializedShape: [shape.batch, shape.outHeight, shape.outWidth, shape.outChannels])
        let bf16 = ComputePrecision.current == .bf16 && FusedInvertedResidual.bf16Kernel ? packedBF16 : nil
        let done = Kernels.invertedResidualForward(shape, packed: packed.pointer, bf16: bf16?.pointer, input: input.pointer,
                                                   residual: residual ? input.pointer : nil, output: y.pointer)
        return done ? .float(y, channelsLast: true) : nil
    }

    /// The block as one int8 chain of its calibrated convolutions (`Kernels.conv2dInt8Chain`, as the native blocks run
    /// at int8: the input quantized once, u8 between the convolutions, the residual summed by the projection), fp32
    /// in and out. nil outside int8 inference, while calibrating, or when a convolution has no range (then they run
    /// one by one).
    func int8Forward(_ x: OnnxValue, kernels: OnnxKernels) throws -> OnnxValue? {
        guard ComputePrecision.current == .int8, !Calibration.isRecording else { return nil }
        let s = x.shape
        guard s.count == 4, s[1] == inChannels, s[0] >= 1, shape(batch: s[0], height: s[2], width: s[3]) != nil,
              let (links, outShape) = try OnnxModel.ConvStep.int8Chain(convs, kernels: kernels, input: s) else { return nil }
        let input = try x.nhwcTensor()
        let y = try Tensor(uninitializedShape: outShape)
        if residual { y.pointer.update(from: input.pointer, count: input.count) }   // what the projection's sum adds
        try withExtendedLifetime((convs, input)) {
            try Kernels.conv2dInt8Chain(links, input: .fp32(input.pointer), output: .fp32(y.pointer), residual: residual ? .destination : .none)
        }
        return .float(y, channelsLast: true)
    }

    /// `steps` with every run of convolution steps that forms an inverted-residual block (consecutive, each
    /// intermediate value read only by the next and not a requested output) replaced by one block step.
    static func fuse(_ steps: [OnnxModel.Step], keep: Set<String>) -> [OnnxModel.Step] {
        var readers: [String: Int] = [:]
        for s in steps { for v in s.inputs { readers[v, default: 0] += 1 } }
        func isInternal(_ v: String) -> Bool { readers[v] == 1 && !keep.contains(v) }
        func conv(_ i: Int) -> OnnxModel.ConvStep? {
            guard i < steps.count, case let .conv(c) = steps[i] else { return nil }
            return c
        }
        var out: [OnnxModel.Step] = []
        var i = 0
        while i < steps.count {
            if let a = conv(i), let b = conv(i + 1), let c = conv(i + 2), b.input == a.output, c.input == b.output,
               isInternal(a.output), isInternal(b.output), let block = make(expand: a, depthwise: b, project: c) {
                out.append(.invertedResidual(block)); i += 3
            } else if let b = conv(i), let c = conv(i + 1), c.input == b.output, isInternal(b.output),
                      let block = make(expand: nil, depthwise: b, project: c) {
                out.append(.invertedResidual(block)); i += 2
            } else {
                out.append(steps[i]); i += 1
            }
        }
        return out
    }

    /// Kernel, strides, dilations, pads (top, left, bottom, right) and groups of a 2-D convolution step with
    /// explicit (or VALID) padding.
    private static func geometry(_ c: OnnxModel.ConvStep) -> (kernel: [Int], strides: [Int], dilations: [Int], pads: [Int], groups: Int)? {
        let w = c.fused.weight.shape
        guard w.count == 4 else { return nil }
        let autoPad = c.node.string("auto_pad") ?? "NOTSET"
        guard ["NOTSET", "", "VALID"].contains(autoPad) else { return nil }
        let pads = autoPad == "VALID" ? [0, 0, 0, 0] : c.node.ints("pads") ?? [0, 0, 0, 0]
        let strides = c.node.ints("strides") ?? [1, 1], dilations = c.node.ints("dilations") ?? [1, 1]
        guard pads.count == 4, strides.count == 2, dilations.count == 2 else { return nil }
        return (Array(w[2...]), strides, dilations, pads, c.node.int("group") ?? 1)
    }

    /// A 1x1, stride-1, unpadded, ungrouped convolution from `input` to `output` channels.
    private static func isPointwise(_ c: OnnxModel.ConvStep, from input: Int, to output: Int) -> Bool {
        guard let g = geometry(c) else { return false }
        return c.fused.weight.shape == [output, input, 1, 1] && g.strides == [1, 1] && g.dilations == [1, 1]
            && g.pads == [0, 0, 0, 0] && g.groups == 1
    }

    private static func make(expand: OnnxModel.ConvStep?, depthwise d: OnnxModel.ConvStep, project p: OnnxModel.ConvStep) -> OnnxInvertedResidual? {
        let dw = d.fused.weight.shape
        guard let g = geometry(d), dw.count == 4, dw[1] == 1, dw[2] == dw[3], g.groups == dw[0], g.strides[0] == g.strides[1],
              g.dilations == [1, 1], d.fused.activation == .relu6, d.residual == nil else { return nil }
        let hidden = dw[0], kernel = dw[2]
        let input = expand?.input ?? d.input
        let inChannels: Int
        if let e = expand {
            inChannels = e.fused.weight.shape[1]
            guard e.fused.activation == .relu6, e.residual == nil, isPointwise(e, from: inChannels, to: hidden) else { return nil }
        } else {
            inChannels = hidden
        }
        let outChannels = p.fused.weight.shape[0]
        guard isPointwise(p, from: hidden, to: outChannels), p.fused.activation == nil, p.residual == nil || p.residual == input else { return nil }
        let pads = (top: g.pads[0], left: g.pads[1], bottom: g.pads[2], right: g.pads[3])
        let probe = InvertedResidualShape(batch: 1, inHeight: kernel, inWidth: kernel, inChannels: inChannels, hidden: hidden,
                                          hasExpansion: expand != nil, outHeight: 1, outWidth: 1, outChannels: outChannels,
                                          kernel: kernel, stride: g.strides[0], padTop: pads.top, padLeft: pads.left)
        guard probe.isSupported, let packed = try? Tensor(uninitializedShape: [Kernels.invertedResidualPackedCount(probe)]) else { return nil }
        // The kernel adds a bias to every convolution: zeros where the graph has none.
        func bias(_ c: OnnxModel.ConvStep) -> Tensor { c.fused.bias ?? Tensor.zeros([c.fused.weight.shape[0]]) }
        let parts = (expand.map { [$0] } ?? []) + [d, p]
        let biases = parts.map(bias)
        func pointers(_ i: Int) -> (weight: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
            (UnsafePointer(parts[i].fused.weight.pointer), UnsafePointer(biases[i].pointer))
        }
        withExtendedLifetime((parts, biases)) {
            Kernels.invertedResidualPack(probe, expand: expand == nil ? nil : pointers(0), depthwise: pointers(parts.count - 2),
                                         project: pointers(parts.count - 1), into: packed.pointer)
        }
        let packedBF16 = FusedInvertedResidual.bf16Kernel ? try? FusedInvertedResidual.bf16Words(probe, packed: packed) : nil
        return OnnxInvertedResidual(convs: parts, input: input, output: p.output, residual: p.residual != nil, inChannels: inChannels,
                                    hidden: hidden, outChannels: outChannels, kernel: kernel, stride: g.strides[0], pads: pads,
                                    packed: packed, packedBF16: packedBF16)
    }
}
