import CDNNL
import Foundation

extension Kernels {
    /// One convolution of `conv2dBF16Chain`: geometry, fp32 OIHW weight (converted to bf16 once, cached under
    /// `weightKey`), fp32 bias, and the activation after it (the last link's runs after the residual sum).
    public struct BF16ChainLink {
        public var geometry: Conv2DGeometry
        public var weight: UnsafePointer<Float>, weightKey: WeightKey, bias: UnsafePointer<Float>?
        public var activation: Activation?

        public init(geometry: Conv2DGeometry, weight: UnsafePointer<Float>, weightKey: WeightKey, bias: UnsafePointer<Float>?,
                    activation: Activation?) {
            self.geometry = geometry; self.weight = weight; self.weightKey = weightKey; self.bias = bias
            self.activation = activation
        }
    }

    /// Consecutive bf16 convolutions (a ResNet block: conv1, conv2 (, conv3)) whose intermediate tensors stay bf16:
    /// the fp32 input is converted to bf16 once, each link but the last writes bf16 for the next (its activation a
    /// post-op on the fp32 accumulator), and the last writes fp32 into `dst`. As `conv2dForward(precision: .bf16)` link
    /// by link, minus a conversion per link and half the bytes between them.
    /// `accumulate`: the last link adds what `dst` holds before its activation (the block's input copied there, or
    /// `dst == src`: `src` is read only to convert it, before anything writes `dst`). `projection` (ResNet's
    /// `downsample`): a convolution of the same bf16 input written into `dst` first, then summed (needs `accumulate`).
    public static func conv2dBF16Chain(_ links: [BF16ChainLink], src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
                                       accumulate: Bool, projection: BF16ChainLink? = nil) throws {
        guard let first = links.first, let last = links.last else { return }
        func fail(_ reason: String) -> KernelError { .invalidArguments(primitive: "bf16 convolution chain", reason: reason) }
        for (a, b) in zip(links, links.dropFirst()) {
            let (g, h) = (a.geometry, b.geometry)
            guard g.batch == h.batch, g.outChannels == h.inChannels, g.outHeight == h.height, g.outWidth == h.width else {
                throw fail("link output \(g.outHeight)x\(g.outWidth)x\(g.outChannels) is not the next link's input \(h.height)x\(h.width)x\(h.inChannels)")
            }
        }
        if let p = projection?.geometry {
            let (g, l) = (first.geometry, last.geometry)
            guard accumulate, p.batch == g.batch, p.inChannels == g.inChannels, p.height == g.height, p.width == g.width,
                  p.outChannels == l.outChannels, p.outHeight == l.outHeight, p.outWidth == l.outWidth else {
                throw fail("the projection must read the chain's input, write its output, and be summed (accumulate)")
            }
        }
        try Precision.bf16.requireSupport()
        try ExecutionContext.with { context in
            var keepAlive: [AlignedBuffer?] = []
            func run(_ l: BF16ChainLink, source: UnsafeRawPointer, convertsSource: Bool, output: UnsafeMutableRawPointer,
                     bf16Output: Bool, sums: Bool) throws {
                let kind = ConvPlan.Kind.forward(bias: l.bias != nil, activation: l.activation, accumulate: sums)
                let plan = try ConvPlan.get(l.geometry, kind, precision: .bf16, bf16Source: !convertsSource, bf16Destination: bf16Output)
                let p = plan.primitive
                let (w, buffer) = try plan.weights(l.weight, key: l.weightKey, use: .forward, context: context)
                keepAlive.append(buffer)
                var args = [
                    PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: source),
                    PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: plan.weightsDesc, data: w),
                    PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: output),
                ]
                if let bias = l.bias { args.append(PrimitiveArgument(role: DNNL_ARG_BIAS, desc: p.md(dnnl_query_weights_md, 1), data: bias)) }
                try p.execute(context, args)
            }
            // The input in bf16, once (the first link's plan converts it): the first link and the projection read it.
            let g0 = first.geometry
            let firstPlan = try ConvPlan.get(g0, .forward(bias: first.bias != nil, activation: first.activation, accumulate: false),
                                             precision: .bf16)
            guard let convert = firstPlan.sourceReorder else { throw fail("no bf16 conversion for the input") }
            let input = try context.buffer(.lowPrecisionA, bytes: MemoryDesc.bytes(firstPlan.primitive.md(dnnl_query_src_md)))
            try convert.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_FROM, desc: convert.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_TO, desc: convert.md(dnnl_query_dst_md), data: input),
            ])
            if let projection {
                try run(projection, source: input, convertsSource: false, output: dst, bf16Output: false, sums: false)
            }
            // Intermediate tensors alternate between two slots: B first (A still holds the input), then A, B, ...
            var source = UnsafeRawPointer(input)
            for (i, l) in links.enumerated() {
                let isLast = i == links.count - 1
                if isLast {
                    try run(l, source: source, convertsSource: false, output: dst, bf16Output: false, sums: accumulate)
                } else {
                    let g = l.geometry
                    let bytes = g.batch * g.outHeight * g.outWidth * g.outChannels * MemoryLayout<UInt16>.size
                    let output = try context.buffer(i % 2 == 0 ? .lowPrecisionB : .lowPrecisionA, bytes: bytes)
                    try run(l, source: source, convertsSource: false, output: output, bf16Output: true, sums: false)
                    source = UnsafeRawPointer(output)
                }
            }
            withExtendedLifetime(keepAlive) {}
        }
    }
}
