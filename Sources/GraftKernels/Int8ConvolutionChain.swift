import CDNNL

extension Kernels {
    /// One convolution of `conv2dInt8Chain`: its folded fp32 weight (OIHW), bias, activation and quantization.
    public struct Int8ChainLink {
        public var geometry: Conv2DGeometry
        public var weight: UnsafePointer<Float>, weightKey: WeightKey, bias: UnsafePointer<Float>?
        /// The last link's activation runs after the residual sum (a ResNet block's final ReLU).
        public var activation: Activation?
        public var parameters: ConvInt8Parameters

        public init(geometry: Conv2DGeometry, weight: UnsafePointer<Float>, weightKey: WeightKey, bias: UnsafePointer<Float>?,
                    activation: Activation?, parameters: ConvInt8Parameters) {
            self.geometry = geometry; self.weight = weight; self.weightKey = weightKey; self.bias = bias
            self.activation = activation; self.parameters = parameters
        }
    }

    /// What the last link of `conv2dInt8Chain` adds to its result, before its activation.
    public enum Int8ChainResidual {
        case none
        /// What `dst` holds on entry: the block's input copied there, or `dst == src` (the chain reads `src` only to
        /// quantize it, before anything writes `dst`).
        case destination
        /// A convolution of the chain's input (ResNet's `downsample`), written into `dst` first. It reads the first
        /// link's quantized input when its input quantization is the same (one calibrated tensor: it always is), so
        /// the block's input is quantized once for both. `dst` must not overlap `src`.
        case projection(Int8ChainLink)
    }

    /// A chain's input: fp32 NHWC, or u8/s8 codes already in the first link's input quantization (a previous chain's
    /// output kept quantized: ResNet blocks between identity shortcuts).
    public enum Int8ChainInput {
        case fp32(UnsafePointer<Float>)
        case quantized(UnsafeRawPointer, ActivationQuantization)
    }

    /// A chain's output: fp32 NHWC, or u8/s8 codes in the given quantization (the next chain's input).
    public enum Int8ChainOutput {
        case fp32(UnsafeMutablePointer<Float>)
        case quantized(UnsafeMutableRawPointer, ActivationQuantization)
    }

    /// Consecutive int8 convolutions (an inverted-residual block: expand, depthwise, project; a ResNet block: conv1,
    /// conv2 (, conv3)) whose intermediate tensors stay u8/s8: each link but the last writes its output already
    /// quantized for the next one (its activation, then / next input scale, as post-ops), so the fp32 input is quantized
    /// once and only the last link writes fp32 into `dst`, with `residual` added as a sum post-op before its activation.
    public static func conv2dInt8Chain(_ links: [Int8ChainLink], src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
                                       residual: Int8ChainResidual) throws {
        try conv2dInt8Chain(links, input: .fp32(src), output: .fp32(dst), residual: residual)
    }

    /// `conv2dInt8Chain` from and to quantized tensors as well. A quantized `output` with `.destination` sums codes
    /// that `dst` holds in the input's quantization (the block's input, summed in place: `dst` may be the input's
    /// codes), times its scale; a projection residual needs an fp32 output (it writes fp32 into `dst`).
    public static func conv2dInt8Chain(_ links: [Int8ChainLink], input: Int8ChainInput, output: Int8ChainOutput,
                                       residual: Int8ChainResidual) throws {
        guard let first = links.first else { return }
        try checkChain(links, residual: residual)
        func fail(_ reason: String) -> KernelError { .invalidArguments(primitive: "int8 convolution chain", reason: reason) }
        let dst: UnsafeMutableRawPointer, outputQuantization: ActivationQuantization?
        switch output {
        case .fp32(let p): (dst, outputQuantization) = (UnsafeMutableRawPointer(p), nil)
        case .quantized(let p, let q): (dst, outputQuantization) = (p, q)
        }
        var residualScale: Float = 1
        if let q = outputQuantization {
            if case .projection = residual { throw fail("a projection shortcut needs an fp32 output") }
            if case .destination = residual {
                guard first.parameters.input.unsigned == q.unsigned else {
                    throw fail("a quantized residual sums \(q.unsigned ? "u8" : "s8") codes into an input of the other type")
                }
                residualScale = first.parameters.input.scale
            }
        }
        if case .quantized(_, let q) = input, q != first.parameters.input {
            throw fail("the input is quantized with scale \(q.scale) (\(q.unsigned ? "u8" : "s8")), the first link reads scale \(first.parameters.input.scale)")
        }
        try ExecutionContext.with { context in
            var keepAlive: [AlignedBuffer?] = []
            typealias Step = (plan: Int8ConvPlan, weights: UnsafeRawPointer, depthwise: FusedDepthwiseOperands?)
            /// Link `l`'s plan and weights; with `depthwise`, the next link (a 3x3 depthwise) runs inside it and
            /// `output` is what that one writes.
            func prepared(_ l: Int8ChainLink, accumulate: Bool, output: ActivationQuantization?, quantizedInput: Bool,
                          residualScale: Float = 1, depthwise dw: Int8ChainLink? = nil) throws -> Step {
                let fusion = dw.map { Int8DepthwiseFusion(geometry: $0.geometry, parameters: $0.parameters, activation: $0.activation, output: output) }
                let key = Int8ConvPlan.Key(geometry: l.geometry, bias: l.bias != nil, activation: l.activation, accumulate: accumulate,
                                           parameters: l.parameters, output: dw?.parameters.input ?? output, quantizedInput: quantizedInput,
                                           residualScale: residualScale, depthwise: fusion)
                let plan = try Int8ConvPlan.cache.plan(key) { try Int8ConvPlan(key) }
                let (w, buffer) = try plan.weights(l.weight, key: l.weightKey, use: .forward, context: context)
                keepAlive.append(buffer)
                guard let dw else { return (plan, w, nil) }
                guard let bias = dw.bias else { throw fail("a fused depthwise convolution needs its bias") }
                let dwWeights = try plan.depthwiseWeights(dw.weight, key: dw.weightKey, context: context)
                keepAlive.append(dwWeights)
                return (plan, w, FusedDepthwiseOperands(weights: UnsafeRawPointer(dwWeights.pointer), bias: bias))
            }
            /// Whether links i and i + 1 run as one primitive (never the last link: it writes the chain's output).
            func fuses(_ i: Int) -> Bool { i + 2 < links.count && Self.fusesDepthwise(links[i], links[i + 1]) }
            var accumulate = false
            if case .none = residual {} else { accumulate = true }
            let inputIsQuantized: Bool, source: UnsafeRawPointer
            switch input {
            case .fp32(let p): (inputIsQuantized, source) = (false, UnsafeRawPointer(p))
            case .quantized(let p, _): (inputIsQuantized, source) = (true, p)
            }
            let head = fuses(0)
                ? try prepared(first, accumulate: false, output: links[2].parameters.input, quantizedInput: inputIsQuantized, depthwise: links[1])
                : try prepared(first, accumulate: links.count == 1 && accumulate,
                               output: links.count > 1 ? links[1].parameters.input : outputQuantization,
                               quantizedInput: inputIsQuantized, residualScale: links.count == 1 ? residualScale : 1)
            let quantized: UnsafeRawPointer
            if case .projection(let shortcut) = residual {
                let shares = shortcut.parameters.input == first.parameters.input
                if inputIsQuantized && !shares { throw fail("the projection reads another quantization than the quantized input's") }
                let s = try prepared(shortcut, accumulate: false, output: nil, quantizedInput: shares)
                if shares {
                    quantized = try head.plan.quantizedSource(context, source)
                    try s.plan.run(context, quantized: quantized, weights: s.weights, bias: shortcut.bias, dst: dst)
                } else {
                    // Its own quantization uses the source slot: run it before the first link's.
                    try s.plan.run(context, src: source, weights: s.weights, bias: shortcut.bias, dst: dst)
                    quantized = try head.plan.quantizedSource(context, source)
                }
            } else {
                quantized = try head.plan.quantizedSource(context, source)
            }
            var input = quantized
            var i = 0, written = 0   // written: how many intermediate tensors so far (they alternate two slots)
            while i < links.count {
                let fused = fuses(i), l = links[i]
                let end = fused ? i + 1 : i   // the link whose output this step writes
                let isLast = end == links.count - 1
                let step = i == 0 ? head
                    : fused ? try prepared(l, accumulate: false, output: links[end + 1].parameters.input, quantizedInput: true, depthwise: links[i + 1])
                    : try prepared(l, accumulate: isLast && accumulate, output: isLast ? outputQuantization : links[i + 1].parameters.input,
                                   quantizedInput: true, residualScale: isLast ? residualScale : 1)
                let out: UnsafeMutableRawPointer = isLast ? dst
                    : try context.buffer(written % 2 == 0 ? .int8A : .int8B, bytes: MemoryDesc.bytes(step.plan.primitive.md(dnnl_query_dst_md)))
                try step.plan.run(context, quantized: input, weights: step.weights, bias: l.bias, dst: out, depthwise: step.depthwise)
                input = UnsafeRawPointer(out)
                i = end + 1
                written += 1
            }
            withExtendedLifetime(keepAlive) {}
        }
    }

    /// Whether oneDNN's fused depthwise post-op runs link `b` inside link `a`: a 1x1 stride-1 convolution followed by
    /// a 3x3 depthwise one with padding 1 and stride 1 or 2 and a bias (inverted-residual blocks' expansion and
    /// depthwise). The expanded tensor then stays in cache between the two instead of going to memory. oneDNN 2.6's
    /// avx2 int8 kernel computes the same codes as the two convolutions (Int8ChainKernelTests); its fp32 avx512 one
    /// did not (docs/KERNELS.md), so only int8 chains fuse. `GRAFT_INT8_FUSED_DEPTHWISE=0` turns it off. Below 8x8 oneDNN
    /// 2.6 runs the pair through its `ref_fused_convolution` (row by row): at 7x7 that was slower than the two apart
    /// (MobileNetV2's 160 -> 960 blocks: 2.36-2.89 ms against 1.46 + 0.60), so those stay apart.
    static func fusesDepthwise(_ a: Int8ChainLink, _ b: Int8ChainLink) -> Bool {
        let (g, h) = (a.geometry, b.geometry)
        return fusesInt8Depthwise && h.height >= 8 && h.width >= 8 && g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 && g.groups == 1
            && [g.padTop, g.padBottom, g.padLeft, g.padRight] == [0, 0, 0, 0]
            && h.groups == h.inChannels && h.inChannels == h.outChannels && h.kernelH == 3 && h.kernelW == 3
            && h.strideH == h.strideW && (1...2).contains(h.strideH) && [h.padTop, h.padBottom, h.padLeft, h.padRight] == [1, 1, 1, 1]
            && h.dilationH == 1 && h.dilationW == 1 && b.bias != nil
    }

    /// Typed errors for a chain whose links do not fit together: each link's input is the previous one's output, and a
    /// projection reads the chain's input and writes its output.
    static func checkChain(_ links: [Int8ChainLink], residual: Int8ChainResidual) throws {
        func fail(_ reason: String) -> KernelError { .invalidArguments(primitive: "int8 convolution chain", reason: reason) }
        for l in links where !l.geometry.isValid { throw fail("invalid geometry \(l.geometry)") }
        for (a, b) in zip(links, links.dropFirst()) {
            let (g, h) = (a.geometry, b.geometry)
            guard [g.batch, g.outChannels, g.outHeight, g.outWidth] == [h.batch, h.inChannels, h.height, h.width] else {
                throw fail("a link reads \([h.batch, h.inChannels, h.height, h.width]) (NCHW) after one that writes \([g.batch, g.outChannels, g.outHeight, g.outWidth])")
            }
        }
        guard case .projection(let shortcut) = residual, let first = links.first?.geometry, let last = links.last?.geometry else { return }
        let s = shortcut.geometry
        guard s.isValid else { throw fail("invalid projection geometry \(s)") }
        guard [s.batch, s.inChannels, s.height, s.width] == [first.batch, first.inChannels, first.height, first.width],
              [s.batch, s.outChannels, s.outHeight, s.outWidth] == [last.batch, last.outChannels, last.outHeight, last.outWidth] else {
            throw fail("the projection maps \([s.batch, s.inChannels, s.height, s.width]) to \([s.batch, s.outChannels, s.outHeight, s.outWidth]), "
                       + "the chain \([first.batch, first.inChannels, first.height, first.width]) to \([last.batch, last.outChannels, last.outHeight, last.outWidth])")
        }
    }
}
