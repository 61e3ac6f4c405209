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
        func plan(_ l: BF16ChainLink, sums: Bool, bf16Source: Bool, bf16Output: Bool) throws -> ConvPlan {
            try ConvPlan.get(l.geometry, .forward(bias: l.bias != nil, activation: l.activation, accumulate: sums), precision: .bf16,
                             bf16Source: bf16Source, bf16Destination: bf16Output)
        }
        // The first link converts the fp32 input (its plan's reorder); the others, and the projection, read bf16.
        let plans = try links.indices.map { i in
            try plan(links[i], sums: i == links.count - 1 && accumulate, bf16Source: i > 0, bf16Output: i < links.count - 1)
        }
        let projectionPlan = try projection.map { try plan($0, sums: false, bf16Source: true, bf16Output: false) }
        try ExecutionContext.with { context in
            let input = try plans[0].convertedSource(src, context: context)
            if let projection, let projectionPlan {
                try projectionPlan.forward(source: input, weight: projection.weight, weightKey: projection.weightKey,
                                           bias: projection.bias, dst: dst, context: context)
            }
            // Intermediate tensors alternate between two slots: B first (A holds the converted input), then A, B, ...
            var source = input
            for (i, l) in links.enumerated() {
                var output = UnsafeMutableRawPointer(dst)
                if i < links.count - 1 {
                    let g = l.geometry
                    output = try context.buffer(i % 2 == 0 ? .lowPrecisionB : .lowPrecisionA,
                                                bytes: g.batch * g.outHeight * g.outWidth * g.outChannels * MemoryLayout<UInt16>.size)
                }
                try plans[i].forward(source: source, weight: l.weight, weightKey: l.weightKey, bias: l.bias, dst: output, context: context)
                source = UnsafeRawPointer(output)
            }
        }
    }
}
