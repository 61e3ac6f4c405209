import CDNNL

/// How an int8 convolution reads its fp32 input (docs/PRECISION.md): `x ≈ scale * q`, with q in u8 [0, 255]
/// when calibration never saw a negative input (after a ReLU) and in s8 [-127, 127] otherwise; symmetric,
/// no zero point. The scale comes from the calibrated range: max / 255 (u8) or max(|min|, |max|) / 127 (s8).
public struct ActivationQuantization: Hashable, Sendable {
    public let scale: Float
    public let unsigned: Bool

    public init(scale: Float, unsigned: Bool) {
        self.scale = scale
        self.unsigned = unsigned
    }

    /// From a calibrated range (min <= max); a range of zeros gets scale 1 (every input then reads as 0).
    public init(min: Float, max: Float) {
        unsigned = min >= 0
        let extent = unsigned ? max / 255 : Swift.max(-min, max) / 127
        scale = extent > 0 && extent.isFinite ? extent : 1
    }

    var dataType: dnnl_data_type_t { unsigned ? dnnl_u8 : dnnl_s8 }
}

/// What an int8 convolution multiplies: the input's quantization, and one symmetric s8 scale per output channel
/// of the (fp32) weight, `w ≈ weightScales[o] * q` with q in [-127, 127] ([-63, 63] against u8 inputs without VNNI;
/// `weightLevels(unsignedInput:)`).
public struct ConvInt8Parameters: Hashable, Sendable {
    public let input: ActivationQuantization
    public let weightScales: [Float]

    public init(input: ActivationQuantization, weightScales: [Float]) {
        self.input = input
        self.weightScales = weightScales
    }

    /// max |w| / `levels` per output channel of a weight stored with its output channel first (OIHW, `[out, in]`);
    /// a channel of zeros gets scale 1.
    public static func perChannelScales(of weight: UnsafePointer<Float>, outChannels: Int, count: Int,
                                        levels: Float = weightLevels(unsignedInput: true)) -> [Float] {
        let perOut = count / outChannels
        return (0..<outChannels).map { o in
            var m: Float = 0
            for i in 0..<perOut { m = Swift.max(m, abs(weight[o * perOut + i])) }
            return m > 0 ? m / levels : 1
        }
    }

    /// The largest quantized weight magnitude: 127 where the CPU multiplies u8 x s8 into 32 bits (VNNI, AMX). On AVX2
    /// and AVX-512 without VNNI oneDNN adds pairs of u8 x s8 products in 16 bits (`vpmaddubsw`): against u8 inputs
    /// 7-bit weights keep every pair below saturation (255 * 63 * 2 < 32767; ONNX Runtime's `reduce_range`); against
    /// s8 inputs oneDNN itself halves the weights it reorders (its s8s8 `scale_adjust`), so they are given 127 levels
    /// and it keeps 64 (giving it 63 left 32: Lite0's photos then changed top-1 on 2 of 8, session 13).
    public static func weightLevels(unsignedInput: Bool) -> Float { hasInt8DotProduct || !unsignedInput ? 127 : 63 }

    /// Whether oneDNN's ISA has 32-bit int8 dot products (VNNI or AMX), read per call: `DNNL_MAX_CPU_ISA` is fixed per process.
    public static var hasInt8DotProduct: Bool {
        ["avx2_vnni", "avx512_core_vnni", "avx512_core_bf16", "avx512_core_amx"].contains(Runtime.isa)
    }
}

/// An int8 forward convolution: the fp32 NHWC input quantized to u8/s8 by a oneDNN reorder, the fp32 OIHW weights
/// reordered once into s8 (per-channel scales) in the primitive's blocked layout, s32 accumulation, and the scales
/// `input.scale * weightScales[o]` applied as the primitive's per-channel output scales, so bias, residual sum and
/// activation post-ops run on the fp32 result written to fp32 dst.
final class Int8ConvPlan: ConvWeightsLayout, Sendable {
    /// `output`: write u8/s8 quantized for the next convolution of a chain (nil: fp32). `quantizedInput`: the source
    /// is already u8/s8 in `parameters.input`'s quantization (a chain's previous output), so no reorder.
    struct Key: Hashable, Sendable {
        let geometry: Conv2DGeometry
        let bias: Bool, activation: Activation?, accumulate: Bool
        let parameters: ConvInt8Parameters
        var output: ActivationQuantization? = nil
        var quantizedInput = false
    }

    let primitive: Primitive
    let userWeights: OwnedMemoryDesc
    let weightsReorder: Primitive?
    var weightsDesc: UnsafePointer<dnnl_memory_desc_t> { primitive.md(dnnl_query_weights_md) }
    let weightsLayout: DescriptorBytes
    /// fp32 NHWC input -> u8/s8 NHWC, multiplied by 1 / input scale (nil for an already quantized input).
    let sourceReorder: Primitive?
    /// oneDNN 2.x adds the bias before the output scales: the bias each call passes is divided by them.
    let biasDivisors: [Float]

    init(_ key: Key) throws {
        let g = key.geometry, q = key.parameters
        guard q.weightScales.count == g.outChannels else {
            throw KernelError.invalidArguments(primitive: "int8 convolution",
                                               reason: "\(q.weightScales.count) weight scales for \(g.outChannels) output channels")
        }
        var userSrc = try MemoryDesc.tagged([g.batch, g.inChannels, g.height, g.width], dnnl_nhwc)
        let src = try MemoryDesc.tagged([g.batch, g.inChannels, g.height, g.width], dnnl_nhwc, type: q.input.dataType)
        let dst = try MemoryDesc.tagged([g.batch, g.outChannels, g.outHeight, g.outWidth], dnnl_nhwc,
                                        type: key.output?.dataType ?? dnnl_f32)
        let grouped = g.groups > 1
        let weightDims = grouped
            ? [g.groups, g.outChannels / g.groups, g.inChannels / g.groups, g.kernelH, g.kernelW]
            : [g.outChannels, g.inChannels, g.kernelH, g.kernelW]
        userWeights = OwnedMemoryDesc(try MemoryDesc.tagged(weightDims, grouped ? dnnl_goihw : dnnl_oihw))
        let anyWeights = try MemoryDesc.tagged(weightDims, dnnl_format_tag_any, type: dnnl_s8)
        let biasDesc = try MemoryDesc.tagged([g.outChannels], dnnl_x)
        let strides: [dnnl_dim_t] = [dnnl_dim_t(g.strideH), dnnl_dim_t(g.strideW)]
        let dilates: [dnnl_dim_t] = [dnnl_dim_t(g.dilationH - 1), dnnl_dim_t(g.dilationW - 1)]
        let padL: [dnnl_dim_t] = [dnnl_dim_t(g.padTop), dnnl_dim_t(g.padLeft)]
        let padR: [dnnl_dim_t] = [dnnl_dim_t(g.padBottom), dnnl_dim_t(g.padRight)]
        var d = dnnl_convolution_desc_t()
        var s = src, w = anyWeights, b = biasDesc, o = dst
        try dnnlCheck(withUnsafePointer(to: &b) { bp in
            dnnl_dilated_convolution_forward_desc_init(&d, dnnl_forward_inference, dnnl_convolution_direct, &s, &w,
                                                       key.bias ? bp : nil, &o, strides, dilates, padL, padR)
        }, "\(g) int8 forward desc")
        let outputScales = q.weightScales.map { q.input.scale * $0 }
        biasDivisors = outputScales
        var postOps = key.accumulate ? [Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: 1)] : []
        if let activation = key.activation { postOps.append(activation.postOp) }
        if let next = key.output {
            // Quantize for the next layer after the activation (which works in real units): x / next.scale.
            if postOps.isEmpty { postOps.append(Primitive.PostOp(algorithm: dnnl_eltwise_linear, alpha: 1, beta: 0)) }
            postOps[postOps.count - 1].eltwiseScale = 1 / next.scale
        }
        primitive = try Primitive("\(g) int8 forward", opDesc: &d, postOps: postOps, outputScales: (mask: 1 << 1, values: outputScales))
        // Weights: w / weightScales[o] rounded to s8 (per output channel: dims 0 and 1 of GOIHW, 0 of OIHW).
        weightsReorder = try Primitive(reorder: "\(g) int8 weights", from: userWeights.pointer, to: primitive.md(dnnl_query_weights_md),
                                       outputScales: (mask: grouped ? 0b11 : 0b1, values: q.weightScales.map { 1 / $0 }))
        weightsLayout = DescriptorBytes(primitive.md(dnnl_query_weights_md))
        sourceReorder = key.quantizedInput ? nil
            : try Primitive(reorder: "\(g) source to \(q.input.unsigned ? "u8" : "s8")", from: &userSrc,
                            to: primitive.md(dnnl_query_src_md), outputScales: (mask: 0, values: [1 / q.input.scale]))
    }

    static let cache = PlanCache<Key, Int8ConvPlan>()

    /// Quantizes `src` (unless it already is), then runs the convolution into `dst`.
    func run(_ context: ExecutionContext, src: UnsafeRawPointer, weights: UnsafeRawPointer, bias: UnsafePointer<Float>?,
             dst: UnsafeMutableRawPointer) throws {
        let p = primitive
        var source = src
        if let reorder = sourceReorder {
            let quantized = try context.buffer(.lowPrecisionA, bytes: MemoryDesc.bytes(p.md(dnnl_query_src_md)))
            try reorder.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_FROM, desc: reorder.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_TO, desc: reorder.md(dnnl_query_dst_md), data: quantized),
            ])
            source = UnsafeRawPointer(quantized)
        }
        var args = [
            PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: source),
            PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: weightsDesc, data: weights),
            PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: dst),
        ]
        if let bias {
            let count = biasDivisors.count
            let scaled = try context.buffer(.lowPrecisionB, bytes: count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: count)
            for o in 0..<count { scaled[o] = bias[o] / biasDivisors[o] }
            args.append(PrimitiveArgument(role: DNNL_ARG_BIAS, desc: p.md(dnnl_query_weights_md, 1), data: scaled))
        }
        try p.execute(context, args)
    }
}

extension Kernels {
    /// `conv2dForward` in int8 (docs/PRECISION.md): same arguments and fp32 tensors, with `parameters` saying how the
    /// input and the weights are quantized. The s8 weights are cached under `weightKey` (keyed by their layout, so
    /// they live beside the fp32 and bf16 copies). On CPUs without VNNI oneDNN multiplies u8 x s8 pairs with a 16-bit
    /// intermediate that can saturate; the results stay close but are not exact.
    public static func conv2dForwardInt8(_ g: Conv2DGeometry, src: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                         weightKey: WeightKey?, bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>,
                                         activation: Activation? = nil, accumulate: Bool = false,
                                         parameters: ConvInt8Parameters) throws {
        guard g.isValid else { throw KernelError.invalidArguments(primitive: "int8 convolution", reason: "invalid geometry \(g)") }
        try ExecutionContext.with { context in
            let key = Int8ConvPlan.Key(geometry: g, bias: bias != nil, activation: activation, accumulate: accumulate,
                                       parameters: parameters)
            let plan = try Int8ConvPlan.cache.plan(key) { try Int8ConvPlan(key) }
            let (w, keepAlive) = try plan.weights(weight, key: weightKey, use: .forward, context: context)
            try plan.run(context, src: UnsafeRawPointer(src), weights: w, bias: bias, dst: UnsafeMutableRawPointer(dst))
            withExtendedLifetime(keepAlive) {}
        }
    }

    /// One convolution of `conv2dInt8Chain`: its folded fp32 weight (OIHW), bias, activation and quantization.
    public struct Int8ChainLink {
        public var geometry: Conv2DGeometry
        public var weight: UnsafePointer<Float>, weightKey: WeightKey, bias: UnsafePointer<Float>?
        public var activation: Activation?
        public var parameters: ConvInt8Parameters

        public init(geometry: Conv2DGeometry, weight: UnsafePointer<Float>, weightKey: WeightKey, bias: UnsafePointer<Float>?,
                    activation: Activation?, parameters: ConvInt8Parameters) {
            self.geometry = geometry; self.weight = weight; self.weightKey = weightKey; self.bias = bias
            self.activation = activation; self.parameters = parameters
        }
    }

    /// Consecutive int8 convolutions (an inverted-residual block: expand, depthwise, project) whose intermediate
    /// tensors stay u8/s8: each link but the last writes its output already quantized for the next one (its
    /// activation, then / next input scale, as post-ops), so the fp32 input is quantized once and only the last
    /// link writes fp32 into `dst` (adding what dst holds with `accumulate`, a residual).
    public static func conv2dInt8Chain(_ links: [Int8ChainLink], src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
                                       accumulate: Bool) throws {
        guard !links.isEmpty else { return }
        for l in links where !l.geometry.isValid {
            throw KernelError.invalidArguments(primitive: "int8 convolution chain", reason: "invalid geometry \(l.geometry)")
        }
        try ExecutionContext.with { context in
            var input = UnsafeRawPointer(src)
            for (i, l) in links.enumerated() {
                let last = i == links.count - 1
                let key = Int8ConvPlan.Key(geometry: l.geometry, bias: l.bias != nil, activation: l.activation,
                                           accumulate: last && accumulate, parameters: l.parameters,
                                           output: last ? nil : links[i + 1].parameters.input, quantizedInput: i > 0)
                let plan = try Int8ConvPlan.cache.plan(key) { try Int8ConvPlan(key) }
                let (w, keepAlive) = try plan.weights(l.weight, key: l.weightKey, use: .forward, context: context)
                let out: UnsafeMutableRawPointer = last ? UnsafeMutableRawPointer(dst)
                    : try context.buffer(i % 2 == 0 ? .int8A : .int8B, bytes: MemoryDesc.bytes(plan.primitive.md(dnnl_query_dst_md)))
                try plan.run(context, src: input, weights: w, bias: l.bias, dst: out)
                withExtendedLifetime(keepAlive) {}
                input = UnsafeRawPointer(out)
            }
        }
    }

    /// The oneDNN implementation an int8 convolution of this shape runs (e.g. "brg:avx512_core_amx_int8").
    public static func conv2dInt8Implementation(_ g: Conv2DGeometry, parameters: ConvInt8Parameters) throws -> String {
        try ExecutionContext.with { _ in
            let key = Int8ConvPlan.Key(geometry: g, bias: false, activation: nil, accumulate: false, parameters: parameters)
            return try Int8ConvPlan.cache.plan(key) { try Int8ConvPlan(key) }.primitive.implementation
        }
    }
}
