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

    /// Consecutive int8 convolutions (an inverted-residual block: expand, depthwise, project; a ResNet block: conv1,
    /// conv2 (, conv3)) whose intermediate tensors stay u8/s8: each link but the last writes its output already
    /// quantized for the next one (its activation, then / next input scale, as post-ops), so the fp32 input is quantized
    /// once and only the last link writes fp32 into `dst`, with `residual` added as a sum post-op before its activation.
    public static func conv2dInt8Chain(_ links: [Int8ChainLink], src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
                                       residual: Int8ChainResidual) throws {
        guard let first = links.first else { return }
        try checkChain(links, residual: residual)
        try ExecutionContext.with { context in
            var keepAlive: [AlignedBuffer?] = []
            func prepared(_ l: Int8ChainLink, accumulate: Bool, output: ActivationQuantization?, quantizedInput: Bool) throws
                -> (plan: Int8ConvPlan, weights: UnsafeRawPointer) {
                let key = Int8ConvPlan.Key(geometry: l.geometry, bias: l.bias != nil, activation: l.activation, accumulate: accumulate,
                                           parameters: l.parameters, output: output, quantizedInput: quantizedInput)
                let plan = try Int8ConvPlan.cache.plan(key) { try Int8ConvPlan(key) }
                let (w, buffer) = try plan.weights(l.weight, key: l.weightKey, use: .forward, context: context)
                keepAlive.append(buffer)
                return (plan, w)
            }
            var accumulate = false
            if case .none = residual {} else { accumulate = true }
            let head = try prepared(first, accumulate: links.count == 1 && accumulate,
                                    output: links.count > 1 ? links[1].parameters.input : nil, quantizedInput: false)
            let quantized: UnsafeRawPointer
            if case .projection(let shortcut) = residual {
                let shares = shortcut.parameters.input == first.parameters.input
                let s = try prepared(shortcut, accumulate: false, output: nil, quantizedInput: shares)
                if shares {
                    quantized = try head.plan.quantizedSource(context, UnsafeRawPointer(src))
                    try s.plan.run(context, quantized: quantized, weights: s.weights, bias: shortcut.bias, dst: UnsafeMutableRawPointer(dst))
                } else {
                    // Its own quantization uses the source slot: run it before the first link's.
                    try s.plan.run(context, src: UnsafeRawPointer(src), weights: s.weights, bias: shortcut.bias, dst: UnsafeMutableRawPointer(dst))
                    quantized = try head.plan.quantizedSource(context, UnsafeRawPointer(src))
                }
            } else {
                quantized = try head.plan.quantizedSource(context, UnsafeRawPointer(src))
            }
            var input = quantized
            for (i, l) in links.enumerated() {
                let isLast = i == links.count - 1
                let step = i == 0 ? head
                    : try prepared(l, accumulate: isLast && accumulate, output: isLast ? nil : links[i + 1].parameters.input, quantizedInput: true)
                let out: UnsafeMutableRawPointer = isLast ? UnsafeMutableRawPointer(dst)
                    : try context.buffer(i % 2 == 0 ? .int8A : .int8B, bytes: MemoryDesc.bytes(step.plan.primitive.md(dnnl_query_dst_md)))
                try step.plan.run(context, quantized: input, weights: step.weights, bias: l.bias, dst: out)
                input = UnsafeRawPointer(out)
            }
            withExtendedLifetime(keepAlive) {}
        }
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
