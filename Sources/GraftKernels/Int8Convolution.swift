import CDNNL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How an int8 convolution reads its fp32 input (docs/PRECISION.md): `x ≈ scale * (q - zeroPoint)`, with q in u8
/// [0, 255] when calibration never saw a negative input (after a ReLU) and in s8 [-127, 127] otherwise, both
/// symmetric (zero point 0). The scale comes from the calibrated range: max / 255 (u8) or max(|min|, |max|) / 127 (s8).
/// Asymmetric codes (asked per layer) read an input of both signs as u8 with a zero point instead:
/// scale (max - min) / 255, zero point round(-min / scale), so a lopsided range (a leaky ReLU's outputs reach about
/// -0.1 x their maximum) gets nearly twice the resolution of s8's.
public struct ActivationQuantization: Hashable, Sendable {
    public let scale: Float
    public let unsigned: Bool
    /// The u8 code of 0: nonzero only for asymmetric codes.
    public let zeroPoint: Int32

    public init(scale: Float, unsigned: Bool, zeroPoint: Int32 = 0) {
        self.scale = scale
        self.unsigned = unsigned || zeroPoint != 0
        self.zeroPoint = zeroPoint
    }

    /// From a calibrated range (min <= max); a range of zeros gets scale 1 (every input then reads as 0).
    /// `asymmetric`: a range of both signs gets u8 codes with a zero point (else s8).
    public init(min: Float, max: Float, asymmetric: Bool = false) {
        let width = (max - min) / 255
        if asymmetric, min < 0, max > 0, width > 0, width.isFinite {
            unsigned = true
            scale = width
            zeroPoint = Int32((-min / width).rounded())
            return
        }
        unsigned = min >= 0
        let extent = unsigned ? max / 255 : Swift.max(-min, max) / 127
        scale = extent > 0 && extent.isFinite ? extent : 1
        zeroPoint = 0
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

/// A 3x3 depthwise convolution run inside a 1x1 int8 one (oneDNN's depthwise post-op, `Kernels.fusesDepthwise`):
/// its geometry and quantization (`parameters.input` is the 1x1's output quantization), activation, and what it
/// writes (u8/s8 for the next link, nil: fp32).
struct Int8DepthwiseFusion: Hashable, Sendable {
    let geometry: Conv2DGeometry
    let parameters: ConvInt8Parameters
    let activation: Activation?
    let output: ActivationQuantization?
}

/// A fused depthwise convolution's operands for one call: its weights in the post-op's s8 layout, its fp32 bias.
struct FusedDepthwiseOperands {
    let weights: UnsafeRawPointer
    let bias: UnsafePointer<Float>
}

extension Kernels {
    /// Whether int8 chains fuse a 1x1 convolution and the 3x3 depthwise one after it (`GRAFT_INT8_FUSED_DEPTHWISE=0`
    /// turns it off; tests compare both).
    @TaskLocal public static var fusesInt8Depthwise: Bool = getenv("GRAFT_INT8_FUSED_DEPTHWISE").map { String(cString: $0) != "0" } ?? true
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
        /// What the residual `dst` holds is multiplied by before the sum: 1 for fp32, its scale for u8/s8 codes (a
        /// chain summing its quantized input in place).
        var residualScale: Float = 1
        /// A 3x3 depthwise convolution run inside this (1x1) one, reading its output (quantized by `output`).
        var depthwise: Int8DepthwiseFusion? = nil
    }

    /// The fused depthwise convolution's weights reorder (GOIHW fp32 -> its post-op's s8 layout), that layout, and its
    /// bias divisors (nil without one).
    let depthwiseWeights: (reorder: Primitive, layout: DescriptorBytes, biasDivisors: [Float])?

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
        geometry = g
        // A chain passes symmetric codes between its convolutions; zero points are for a convolution that quantizes
        // its own fp32 input.
        guard q.input.zeroPoint == 0 || (!key.quantizedInput && key.depthwise == nil),
              (key.output?.zeroPoint ?? 0) == 0 else {
            throw KernelError.invalidArguments(primitive: "int8 convolution",
                                               reason: "zero points only where the convolution quantizes its own fp32 input")
        }
        guard q.weightScales.count == g.outChannels else {
            throw KernelError.invalidArguments(primitive: "int8 convolution",
                                               reason: "\(q.weightScales.count) weight scales for \(g.outChannels) output channels")
        }
        var userSrc = try MemoryDesc.tagged([g.batch, g.inChannels, g.height, g.width], dnnl_nhwc)
        var fullCodes = try MemoryDesc.tagged([g.batch, g.inChannels, g.height, g.width], dnnl_nhwc, type: q.input.dataType)
        let subsamples = Self.subsamplesSource(g)
        // The primitive's own geometry: a subsampling plan's convolution runs at stride 1 on the picked pixels.
        let conv = subsamples ? Conv2DGeometry(batch: g.batch, inChannels: g.inChannels, outChannels: g.outChannels,
                                              height: g.outHeight, width: g.outWidth, kernelH: 1, kernelW: 1) : g
        let src = try MemoryDesc.tagged([g.batch, g.inChannels, conv.height, conv.width], dnnl_nhwc, type: q.input.dataType)
        let dst = try MemoryDesc.tagged([g.batch, g.outChannels, g.outHeight, g.outWidth], dnnl_nhwc,
                                        type: key.output?.dataType ?? dnnl_f32)
        let grouped = g.groups > 1
        let weightDims = grouped
            ? [g.groups, g.outChannels / g.groups, g.inChannels / g.groups, g.kernelH, g.kernelW]
            : [g.outChannels, g.inChannels, g.kernelH, g.kernelW]
        userWeights = OwnedMemoryDesc(try MemoryDesc.tagged(weightDims, grouped ? dnnl_goihw : dnnl_oihw))
        let anyWeights = try MemoryDesc.tagged(weightDims, dnnl_format_tag_any, type: dnnl_s8)
        let biasDesc = try MemoryDesc.tagged([g.outChannels], dnnl_x)
        let strides: [dnnl_dim_t] = [dnnl_dim_t(conv.strideH), dnnl_dim_t(conv.strideW)]
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
        var postOps = key.accumulate ? [Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: key.residualScale)] : []
        if let activation = key.activation { postOps.append(activation.postOp) }
        if let next = key.output {
            // Quantize for the next layer after the activation (which works in real units): x / next.scale.
            if postOps.last.map({ $0.sumScale != 0 }) ?? true {
                postOps.append(Primitive.PostOp(algorithm: dnnl_eltwise_linear, alpha: 1, beta: 0))
            }
            postOps[postOps.count - 1].eltwiseScale = 1 / next.scale
        }
        if let dw = key.depthwise {
            guard let middle = key.output, middle == dw.parameters.input, !key.accumulate else {
                throw KernelError.invalidArguments(primitive: "int8 convolution", reason: "a fused depthwise convolution reads the 1x1's quantized output")
            }
            let dwScales = dw.parameters.weightScales.map { middle.scale * $0 }
            postOps.append(Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, depthwise: .init(
                stride: dw.geometry.strideH, outputScales: dwScales, destination: dw.output?.dataType ?? dnnl_f32)))
            if let activation = dw.activation { postOps.append(activation.postOp) }
            if let next = dw.output {
                if dw.activation == nil { postOps.append(Primitive.PostOp(algorithm: dnnl_eltwise_linear, alpha: 1, beta: 0)) }
                postOps[postOps.count - 1].eltwiseScale = 1 / next.scale
            }
        }
        // oneDNN subtracts the input's zero point inside the product (padding reads as the zero point, a real 0).
        primitive = try Primitive("\(g) int8 forward", opDesc: &d, postOps: postOps, outputScales: (mask: 1 << 1, values: outputScales),
                                  zeroPoints: q.input.zeroPoint != 0 ? [(Int32(DNNL_ARG_SRC), q.input.zeroPoint)] : [])
        if let dw = key.depthwise {
            let h = dw.geometry
            // oneDNN derives the fused output's size from its stride and padding 1: it must be the depthwise layer's.
            let expected = MemoryDesc.bytes(primitive.md(dnnl_query_dst_md))
            let wanted = h.batch * h.outChannels * h.outHeight * h.outWidth * (dw.output == nil ? 4 : 1)
            guard expected == wanted else {
                throw KernelError.invalidArguments(primitive: "int8 convolution", reason: "the fused depthwise writes \(expected) bytes, not \(wanted)")
            }
            var user = try MemoryDesc.tagged([h.groups, 1, 1, h.kernelH, h.kernelW], dnnl_goihw)
            let target = primitive.md(dnnl_query_exec_arg_md, Int32(DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS))
            let reorder = try Primitive(reorder: "\(h) fused depthwise int8 weights", from: &user, to: target,
                                        outputScales: (mask: 0b11, values: dw.parameters.weightScales.map { 1 / $0 }))
            depthwiseWeights = (reorder, DescriptorBytes(target), dw.parameters.weightScales.map { dw.parameters.input.scale * $0 })
        } else {
            depthwiseWeights = nil
        }
        // Weights: w / weightScales[o] rounded to s8 (per output channel: dims 0 and 1 of GOIHW, 0 of OIHW).
        weightsReorder = try Primitive(reorder: "\(g) int8 weights", from: userWeights.pointer, to: primitive.md(dnnl_query_weights_md),
                                       outputScales: (mask: grouped ? 0b11 : 0b1, values: q.weightScales.map { 1 / $0 }))
        weightsLayout = DescriptorBytes(primitive.md(dnnl_query_weights_md))
        let codes = q.input.unsigned ? "u8" : "s8", quantize: Primitive.OutputScales = (mask: 0, values: [1 / q.input.scale])
        sourceReorder = key.quantizedInput ? nil
            : try Primitive(reorder: "\(g) source to \(codes)", from: &userSrc, to: &fullCodes, outputScales: quantize,
                            zeroPoint: q.input.zeroPoint)
        if subsamples {
            // The pixels a 1x1 stride-s convolution reads, as a strided view of the full NHWC tensor (dims NCHW). oneDNN
            // refuses a view whose picked rows would run into the next image's (odd height at stride 2): then one image
            // at a time.
            let (c, w) = (g.inChannels, g.width)
            let images = Self.imagesPerPick(g)
            let picked = { (type: dnnl_data_type_t) in
                try MemoryDesc.strided([images, c, conv.height, conv.width],
                                       strides: [g.height * w * c, 1, g.strideH * w * c, g.strideW * c], type: type)
            }
            var compact = try MemoryDesc.tagged([images, c, conv.height, conv.width], dnnl_nhwc, type: q.input.dataType)
            var fp32 = try picked(dnnl_f32), quantized = try picked(q.input.dataType)
            subsamplingQuantize = key.quantizedInput ? nil
                : try Primitive(reorder: "\(g) picked source to \(codes)", from: &fp32, to: &compact, outputScales: quantize,
                                zeroPoint: q.input.zeroPoint)
            subsample = try Primitive(reorder: "\(g) picked \(codes) source", from: &quantized, to: &compact)
        } else {
            subsamplingQuantize = nil
            subsample = nil
        }
    }

    /// oneDNN 2.6's avx2 int8 1x1 kernel subsamples a strided input itself (its "rtus" driver) and races between threads
    /// for some channel counts (24 input channels at 2 threads: other wrong pixels each run, Int8ChainKernelTests). So a
    /// 1x1 convolution with a stride and no padding reads a compact copy of the pixels it uses, made by a reorder (which
    /// for an fp32 input also quantizes, reading a quarter of the tensor at stride 2), and runs at stride 1.
    static func subsamplesSource(_ g: Conv2DGeometry) -> Bool {
        g.kernelH == 1 && g.kernelW == 1 && (g.strideH > 1 || g.strideW > 1) && g.groups == 1
            && [g.padTop, g.padBottom, g.padLeft, g.padRight] == [0, 0, 0, 0]
    }

    static let cache = PlanCache<Key, Int8ConvPlan>()

    /// fp32 NHWC input -> u8/s8 of only the pixels a subsampling plan reads (nil unless it subsamples an fp32 input).
    let subsamplingQuantize: Primitive?
    /// Full-size u8/s8 input -> the pixels a subsampling plan reads (nil unless it subsamples).
    let subsample: Primitive?
    let geometry: Conv2DGeometry
    /// Images each run of `subsamplingQuantize` / `subsample` picks from: the batch, or 1 (once per image) where the
    /// height is not a multiple of the stride.
    var pickedImagesPerReorder: Int { Self.imagesPerPick(geometry) }
    static func imagesPerPick(_ g: Conv2DGeometry) -> Int { g.height % g.strideH == 0 ? g.batch : 1 }

    /// The whole input (`key.geometry`'s size) quantized into `.lowPrecisionA` by the source reorder, or `src` itself
    /// when the plan's input is already quantized: what `run(quantized:)` reads, and other plans of the same input
    /// quantization can read too.
    func quantizedSource(_ context: ExecutionContext, _ src: UnsafeRawPointer) throws -> UnsafeRawPointer {
        guard let reorder = sourceReorder else { return src }
        return try Self.reorder(reorder, context, src, into: .lowPrecisionA)
    }

    private static func reorder(_ reorder: Primitive, _ context: ExecutionContext, _ src: UnsafeRawPointer,
                                into slot: ExecutionContext.Slot) throws -> UnsafeRawPointer {
        let out = try context.buffer(slot, bytes: MemoryDesc.bytes(reorder.md(dnnl_query_dst_md)))
        try reorder.execute(context, [
            PrimitiveArgument(role: DNNL_ARG_FROM, desc: reorder.md(dnnl_query_src_md), data: src),
            PrimitiveArgument(role: DNNL_ARG_TO, desc: reorder.md(dnnl_query_dst_md), data: out),
        ])
        return UnsafeRawPointer(out)
    }

    /// The pixels of `src` (fp32 or codes) a subsampling plan reads, compact in `slot`, one reorder per
    /// `pickedImagesPerReorder` images.
    private func pick(_ reorder: Primitive, _ context: ExecutionContext, _ src: UnsafeRawPointer, elementBytes: Int,
                      into slot: ExecutionContext.Slot) throws -> UnsafeRawPointer {
        let out = try context.buffer(slot, bytes: MemoryDesc.bytes(primitive.md(dnnl_query_src_md)))
        let from = reorder.md(dnnl_query_src_md), to = reorder.md(dnnl_query_dst_md)
        let g = geometry, images = pickedImagesPerReorder
        let fromStep = images * g.height * g.width * g.inChannels * elementBytes
        let toStep = MemoryDesc.bytes(to)
        for i in 0..<(g.batch / images) {
            try reorder.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_FROM, desc: from, data: src + i * fromStep),
                PrimitiveArgument(role: DNNL_ARG_TO, desc: to, data: UnsafeRawPointer(out + i * toStep)),
            ])
        }
        return UnsafeRawPointer(out)
    }

    /// Quantizes `src` (unless it already is), then runs the convolution into `dst`.
    func run(_ context: ExecutionContext, src: UnsafeRawPointer, weights: UnsafeRawPointer, bias: UnsafePointer<Float>?,
             dst: UnsafeMutableRawPointer) throws {
        if let subsamplingQuantize {
            let picked = try pick(subsamplingQuantize, context, src, elementBytes: MemoryLayout<Float>.size, into: .lowPrecisionA)
            return try execute(context, source: picked, weights: weights, bias: bias, dst: dst)
        }
        try run(context, quantized: quantizedSource(context, src), weights: weights, bias: bias, dst: dst)
    }

    /// The convolution of the whole input already in u8/s8 (`quantizedSource`), into `dst` (with a fused depthwise
    /// convolution, `depthwise`'s operands and its output).
    func run(_ context: ExecutionContext, quantized source: UnsafeRawPointer, weights: UnsafeRawPointer,
             bias: UnsafePointer<Float>?, dst: UnsafeMutableRawPointer, depthwise: FusedDepthwiseOperands? = nil) throws {
        // The picked pixels go to a slot of their own: the full codes may sit in any of the others.
        let read = try subsample.map { try pick($0, context, source, elementBytes: 1, into: .subsampled) } ?? source
        try execute(context, source: read, weights: weights, bias: bias, dst: dst, depthwise: depthwise)
    }

    /// The fused depthwise convolution's weights in its post-op's s8 layout, cached under `key`.
    func depthwiseWeights(_ weight: UnsafePointer<Float>, key: WeightKey, context: ExecutionContext) throws -> AlignedBuffer {
        guard let d = depthwiseWeights else {
            throw KernelError.invalidArguments(primitive: "int8 convolution", reason: "no fused depthwise convolution")
        }
        return try WeightCache.shared.reordered(key, use: .forward, layout: d.layout, reorder: d.reorder, source: weight, context: context)
    }

    private func execute(_ context: ExecutionContext, source: UnsafeRawPointer, weights: UnsafeRawPointer,
                         bias: UnsafePointer<Float>?, dst: UnsafeMutableRawPointer, depthwise: FusedDepthwiseOperands? = nil) throws {
        let p = primitive
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
        if let depthwise {
            guard let d = depthwiseWeights else {
                throw KernelError.invalidArguments(primitive: "int8 convolution", reason: "no fused depthwise convolution")
            }
            let count = d.biasDivisors.count
            let scaled = try context.buffer(.depthwiseBias, bytes: count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: count)
            for c in 0..<count { scaled[c] = depthwise.bias[c] / d.biasDivisors[c] }
            let role = { (argument: Int32) in Int32(DNNL_ARG_ATTR_POST_OP_DW) | argument }
            args += [
                PrimitiveArgument(role: role(DNNL_ARG_WEIGHTS), desc: d.reorder.md(dnnl_query_dst_md), data: depthwise.weights),
                PrimitiveArgument(role: role(DNNL_ARG_BIAS), desc: p.md(dnnl_query_exec_arg_md, role(DNNL_ARG_BIAS)), data: scaled),
            ]
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

    /// The oneDNN implementation an int8 convolution of this shape runs (e.g. "brg:avx512_core_amx_int8").
    public static func conv2dInt8Implementation(_ g: Conv2DGeometry, parameters: ConvInt8Parameters) throws -> String {
        try ExecutionContext.with { _ in
            let key = Int8ConvPlan.Key(geometry: g, bias: false, activation: nil, accumulate: false, parameters: parameters)
            return try Int8ConvPlan.cache.plan(key) { try Int8ConvPlan(key) }.primitive.implementation
        }
    }
}
