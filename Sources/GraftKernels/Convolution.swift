import CDNNL
import Foundation

/// Convolution plans: NHWC activations, weights in the layout oneDNN picks
/// (`any`, so AVX-512 brgconv runs), reordered from PyTorch's OIHW.
final class ConvPlan: ConvWeightsLayout, Sendable {
    /// `accumulate`: a sum post-op adds what dst holds (a residual) before the activation.
    enum Kind: Hashable, Sendable {
        case forward(bias: Bool, activation: Activation?, accumulate: Bool)
        case backwardData, backwardWeights(bias: Bool)
    }
    /// `precision` bf16: src and weights are multiplied in bf16 (forward only), dst and bias stay fp32.
    /// `bf16Source`: the caller hands src already in bf16 (no reorder); `bf16Destination`: dst is written in bf16
    /// (both bf16 forward only: the links of `conv2dBF16Chain`).
    struct Key: Hashable, Sendable {
        let geometry: Conv2DGeometry; let kind: Kind; var precision: Precision = .fp32
        var bf16Source = false, bf16Destination = false
    }

    let primitive: Primitive
    /// The caller's OIHW / GOIHW weights layout.
    let userWeights: OwnedMemoryDesc
    /// Reorder between the caller's weights and the primitive's (nil when they match):
    /// user -> primitive for forward / backward data, primitive -> user for backward weights.
    let weightsReorder: Primitive?
    /// Which of the primitive's descriptors the weights are (diff weights for backward weights).
    private let weightsQuery: dnnl_query_t
    var weightsDesc: UnsafePointer<dnnl_memory_desc_t> { primitive.md(weightsQuery) }
    let weightsLayout: DescriptorBytes
    /// bf16 plans: the caller's fp32 NHWC input converted to the primitive's bf16 NHWC one.
    let sourceReorder: Primitive?

    init(_ key: Key) throws {
        let g = key.geometry
        try key.precision.requireSupport()   // a direct call with a precision this CPU lacks: typed, not oneDNN's refusal
        let operand = key.precision.operandType
        let userSrc = try MemoryDesc.tagged([g.batch, g.inChannels, g.height, g.width], dnnl_nhwc)
        let src = try MemoryDesc.tagged([g.batch, g.inChannels, g.height, g.width], dnnl_nhwc, type: operand)
        let dst = try MemoryDesc.tagged([g.batch, g.outChannels, g.outHeight, g.outWidth], dnnl_nhwc,
                                        type: key.bf16Destination ? operand : dnnl_f32)
        let weightDims = g.groups == 1
            ? [g.outChannels, g.inChannels, g.kernelH, g.kernelW]
            : [g.groups, g.outChannels / g.groups, g.inChannels / g.groups, g.kernelH, g.kernelW]
        userWeights = OwnedMemoryDesc(try MemoryDesc.tagged(weightDims, g.groups == 1 ? dnnl_oihw : dnnl_goihw))
        let anyWeights = try MemoryDesc.tagged(weightDims, dnnl_format_tag_any, type: operand)
        let bias = try MemoryDesc.tagged([g.outChannels], dnnl_x)
        let strides: [dnnl_dim_t] = [dnnl_dim_t(g.strideH), dnnl_dim_t(g.strideW)]
        let dilates: [dnnl_dim_t] = [dnnl_dim_t(g.dilationH - 1), dnnl_dim_t(g.dilationW - 1)]
        let padL: [dnnl_dim_t] = [dnnl_dim_t(g.padTop), dnnl_dim_t(g.padLeft)]
        let padR: [dnnl_dim_t] = [dnnl_dim_t(g.padBottom), dnnl_dim_t(g.padRight)]

        func forwardDesc(_ prop: dnnl_prop_kind_t, withBias: Bool) throws -> dnnl_convolution_desc_t {
            var d = dnnl_convolution_desc_t()
            var s = src, w = anyWeights, b = bias, o = dst
            try dnnlCheck(withUnsafePointer(to: &b) { bp in
                dnnl_dilated_convolution_forward_desc_init(&d, prop, dnnl_convolution_direct, &s, &w,
                                                           withBias ? bp : nil, &o, strides, dilates, padL, padR)
            }, "\(g) forward desc")
            return d
        }

        switch key.kind {
        case let .forward(withBias, activation, accumulate):
            var d = try forwardDesc(dnnl_forward_inference, withBias: withBias)
            let sum = accumulate ? [Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: 1)] : []
            primitive = try Primitive("\(g) forward", opDesc: &d, postOps: sum + (activation.map { [$0.postOp] } ?? []))
            weightsQuery = dnnl_query_weights_md
            let weightsDesc = primitive.md(weightsQuery)
            weightsReorder = MemoryDesc.equal(weightsDesc, userWeights.pointer)
                ? nil : try Primitive(reorder: "\(g) weights", from: userWeights.pointer, to: weightsDesc)
        case .backwardData:
            var hd = try forwardDesc(dnnl_forward_training, withBias: false)
            let hint = try Primitive("\(g) forward hint", opDesc: &hd)
            var d = dnnl_convolution_desc_t()
            var s = src, w = anyWeights, o = dst
            try dnnlCheck(dnnl_dilated_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &s, &w, &o,
                                                                        strides, dilates, padL, padR), "\(g) backward data desc")
            primitive = try Primitive("\(g) backward data", opDesc: &d, hint: hint)
            weightsQuery = dnnl_query_weights_md
            let weightsDesc = primitive.md(weightsQuery)
            weightsReorder = MemoryDesc.equal(weightsDesc, userWeights.pointer)
                ? nil : try Primitive(reorder: "\(g) weights", from: userWeights.pointer, to: weightsDesc)
        case let .backwardWeights(withBias):
            var hd = try forwardDesc(dnnl_forward_training, withBias: withBias)
            let hint = try Primitive("\(g) forward hint", opDesc: &hd)
            var d = dnnl_convolution_desc_t()
            var s = src, w = anyWeights, b = bias, o = dst
            try dnnlCheck(withUnsafePointer(to: &b) { bp in
                dnnl_dilated_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &s, &w,
                                                                    withBias ? bp : nil, &o, strides, dilates, padL, padR)
            }, "\(g) backward weights desc")
            primitive = try Primitive("\(g) backward weights", opDesc: &d, hint: hint)
            weightsQuery = dnnl_query_diff_weights_md
            let weightsDesc = primitive.md(weightsQuery)
            weightsReorder = MemoryDesc.equal(weightsDesc, userWeights.pointer)
                ? nil : try Primitive(reorder: "\(g) diff weights", from: weightsDesc, to: userWeights.pointer)
        }
        weightsLayout = DescriptorBytes(primitive.md(weightsQuery))
        if operand == dnnl_f32 || key.bf16Source {
            sourceReorder = nil
        } else {
            var from = userSrc
            sourceReorder = try Primitive(reorder: "\(g) source to \(key.precision)", from: &from, to: primitive.md(dnnl_query_src_md))
        }
    }

    static let cache = PlanCache<Key, ConvPlan>()

    /// `src` as this forward plan reads it: converted to bf16 into per-context scratch (`lowPrecisionA`) by
    /// `sourceReorder`, else `src` itself.
    func convertedSource(_ src: UnsafeRawPointer, context: ExecutionContext) throws -> UnsafeRawPointer {
        guard let reorder = sourceReorder else { return src }
        let converted = try context.buffer(.lowPrecisionA, bytes: MemoryDesc.bytes(primitive.md(dnnl_query_src_md)))
        try reorder.execute(context, [
            PrimitiveArgument(role: DNNL_ARG_FROM, desc: reorder.md(dnnl_query_src_md), data: src),
            PrimitiveArgument(role: DNNL_ARG_TO, desc: reorder.md(dnnl_query_dst_md), data: converted),
        ])
        return UnsafeRawPointer(converted)
    }

    /// Runs this forward plan on `source` (in the primitive's input type): the weights in its layout (cached under
    /// `weightKey`), `bias` when the plan has one, `dst` in its output type.
    func forward(source: UnsafeRawPointer, weight: UnsafePointer<Float>, weightKey: WeightKey?, bias: UnsafePointer<Float>?,
                 dst: UnsafeMutableRawPointer, context: ExecutionContext) throws {
        let p = primitive
        let (w, keepAlive) = try weights(weight, key: weightKey, use: .forward, context: context)
        var args = [
            PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: source),
            PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: weightsDesc, data: w),
            PrimitiveArgument(role: DNNL_ARG_DST, desc: p.md(dnnl_query_dst_md), data: dst),
        ]
        if let bias { args.append(PrimitiveArgument(role: DNNL_ARG_BIAS, desc: p.md(dnnl_query_weights_md, 1), data: bias)) }
        try p.execute(context, args)
        withExtendedLifetime(keepAlive) {}
    }

    static func get(_ g: Conv2DGeometry, _ kind: Kind, precision: Precision = .fp32, bf16Source: Bool = false,
                    bf16Destination: Bool = false) throws -> ConvPlan {
        guard g.isValid else { throw KernelError.invalidArguments(primitive: "convolution", reason: "invalid geometry \(g)") }
        let key = Key(geometry: g, kind: kind, precision: precision, bf16Source: bf16Source, bf16Destination: bf16Destination)
        return try cache.plan(key) { try ConvPlan(key) }
    }
}

/// A convolution primitive's weights layout next to the caller's OIHW one.
protocol ConvWeightsLayout {
    /// The caller's OIHW / GOIHW weights layout.
    var userWeights: OwnedMemoryDesc { get }
    /// Reorder between the two (nil when they match); `weights(...)` uses it user -> primitive.
    var weightsReorder: Primitive? { get }
    var weightsDesc: UnsafePointer<dnnl_memory_desc_t> { get }
    /// `weightsDesc`'s bytes: keys the cached reorder, so shapes that chose the same layout share it.
    var weightsLayout: DescriptorBytes { get }
}

extension ConvWeightsLayout {
    /// The weights in the primitive's layout: the caller's pointer when layouts
    /// match, a cached reorder when a key is given, else a reorder into scratch.
    func weights(_ weight: UnsafePointer<Float>, key: WeightKey?, use: WeightCache.Use,
                 context: ExecutionContext) throws -> (UnsafeRawPointer, AlignedBuffer?) {
        guard let reorder = weightsReorder else { return (UnsafeRawPointer(weight), nil) }
        if let key {
            let buffer = try WeightCache.shared.reordered(key, use: use, layout: weightsLayout, reorder: reorder,
                                                      source: weight, context: context)
            return (UnsafeRawPointer(buffer.pointer), buffer)
        }
        let scratch = try context.buffer(.weights, bytes: MemoryDesc.bytes(weightsDesc))
        try reorder.execute(context, [
            PrimitiveArgument(role: DNNL_ARG_FROM, desc: userWeights.pointer, data: weight),
            PrimitiveArgument(role: DNNL_ARG_TO, desc: weightsDesc, data: scratch),
        ])
        return (UnsafeRawPointer(scratch), nil)
    }
}

extension Kernels {
    /// dst = act(conv(src, weight) + bias), or with `accumulate`
    /// dst = act(conv(src, weight) + bias + dst): the residual already in dst is
    /// added by a oneDNN sum post-op, so the add and the activation cost no
    /// extra pass over memory. src NHWC, weight OIHW (PyTorch), dst NHWC; src
    /// and dst must not overlap. `weightKey` lets the reordered weights be
    /// reused until its version changes. `winograd` lets 3x3 stride-1 layers run
    /// by Winograd (faster, slightly different rounding; see WinogradConvolution.swift).
    /// `precision` bf16 (docs/PRECISION.md): src is converted to bf16 as it is read, the weights once
    /// into a cached bf16 copy (with a `weightKey`), products accumulate in fp32 and dst stays fp32;
    /// Winograd is fp32-only, so it is not used. The caller checks `precision.requireSupport()`.
    /// `precision` int8 runs `conv2dForwardInt8` with `int8`'s quantization; without it (a layer no calibration
    /// covered) the convolution computes in fp32.
    public static func conv2dForward(_ g: Conv2DGeometry, src: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     weightKey: WeightKey?, bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>,
                                     activation: Activation? = nil, accumulate: Bool = false, winograd: Bool = false,
                                     precision: Precision = .fp32, int8: ConvInt8Parameters? = nil) throws {
        if precision == .int8 {
            if let int8 {
                return try conv2dForwardInt8(g, src: src, weight: weight, weightKey: weightKey, bias: bias, dst: dst,
                                             activation: activation, accumulate: accumulate, parameters: int8)
            }
            return try conv2dForward(g, src: src, weight: weight, weightKey: weightKey, bias: bias, dst: dst,
                                     activation: activation, accumulate: accumulate, winograd: winograd)
        }
        if precision == .bf16, Self.staysFP32UnderBF16(g) {
            try precision.requireSupport()   // refused like any bf16 call where the CPU has no bf16
            return try conv2dForward(g, src: src, weight: weight, weightKey: weightKey, bias: bias, dst: dst,
                                     activation: activation, accumulate: accumulate, winograd: winograd)
        }
        if winograd, precision == .fp32,
           try conv2dForwardWinograd(g, src: src, weight: weight, weightKey: weightKey, bias: bias, dst: dst,
                                     activation: activation, accumulate: accumulate) { return }
        try ExecutionContext.with { context in
            let plan = try ConvPlan.get(g, .forward(bias: bias != nil, activation: activation, accumulate: accumulate),
                                        precision: precision)
            try plan.forward(source: plan.convertedSource(src, context: context), weight: weight, weightKey: weightKey,
                             bias: bias, dst: dst, context: context)
        }
    }

    /// A 3x3 first layer over at most 4 channels (the RGB stems of EfficientNet-Lite and MobileNetV2) computes in fp32
    /// when bf16 is asked: bf16 gains it nothing and its input's conversion costs extra. Measured on an AMX Xeon
    /// (session 17, `ONEDNN_VERBOSE`, batch 32, steady-state calls): 6.2 ms fp32 (`brgconv:avx512_core`) against
    /// 7.3-7.9 ms bf16 (`jit:avx512_core_amx_bf16`) plus 1.9 ms for the input's reorder to bf16.
    /// `GRAFT_BF16_STEM` compares the choice: `bf16` computes these stems in bf16 after all, `fp32` keeps every
    /// first layer over at most 4 channels in fp32 (ResNet's 7x7 stem too).
    static func staysFP32UnderBF16(_ g: Conv2DGeometry) -> Bool {
        guard g.groups == 1, g.inChannels <= 4 else { return false }
        switch stemPolicy {
        case "bf16": return false
        case "fp32": return true
        default: return g.kernelH == 3 && g.kernelW == 3
        }
    }
    private static let stemPolicy = ProcessInfo.processInfo.environment["GRAFT_BF16_STEM"] ?? ""

    /// diffSrc (NHWC) = gradient of the convolution w.r.t. its input.
    public static func conv2dBackwardData(_ g: Conv2DGeometry, weight: UnsafePointer<Float>, weightKey: WeightKey?,
                                          diffDst: UnsafePointer<Float>, diffSrc: UnsafeMutablePointer<Float>) throws {
        try ExecutionContext.with { context in
            let plan = try ConvPlan.get(g, .backwardData)
            let p = plan.primitive
            let (w, keepAlive) = try plan.weights(weight, key: weightKey, use: .backwardData, context: context)
            try p.execute(context, [
                PrimitiveArgument(role: DNNL_ARG_DIFF_DST, desc: p.md(dnnl_query_diff_dst_md), data: diffDst),
                PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: plan.weightsDesc, data: w),
                PrimitiveArgument(role: DNNL_ARG_DIFF_SRC, desc: p.md(dnnl_query_diff_src_md), data: diffSrc),
            ])
            withExtendedLifetime(keepAlive) {}
        }
    }

    /// diffWeight (OIHW, overwritten) and diffBias (overwritten, when given) of the convolution.
    public static func conv2dBackwardWeights(_ g: Conv2DGeometry, src: UnsafePointer<Float>, diffDst: UnsafePointer<Float>,
                                             diffWeight: UnsafeMutablePointer<Float>, diffBias: UnsafeMutablePointer<Float>?) throws {
        try ExecutionContext.with { context in
            let plan = try ConvPlan.get(g, .backwardWeights(bias: diffBias != nil))
            let p = plan.primitive
            let target: UnsafeMutableRawPointer = plan.weightsReorder == nil
                ? UnsafeMutableRawPointer(diffWeight)
                : try context.buffer(.weights, bytes: MemoryDesc.bytes(plan.weightsDesc))
            var args = [
                PrimitiveArgument(role: DNNL_ARG_SRC, desc: p.md(dnnl_query_src_md), data: src),
                PrimitiveArgument(role: DNNL_ARG_DIFF_DST, desc: p.md(dnnl_query_diff_dst_md), data: diffDst),
                PrimitiveArgument(role: DNNL_ARG_DIFF_WEIGHTS, desc: plan.weightsDesc, data: target),
            ]
            if let diffBias {
                args.append(PrimitiveArgument(role: DNNL_ARG_DIFF_BIAS, desc: p.md(dnnl_query_diff_weights_md, 1), data: diffBias))
            }
            try p.execute(context, args)
            if let reorder = plan.weightsReorder {
                try reorder.execute(context, [
                    PrimitiveArgument(role: DNNL_ARG_FROM, desc: plan.weightsDesc, data: target),
                    PrimitiveArgument(role: DNNL_ARG_TO, desc: plan.userWeights.pointer, data: diffWeight),
                ])
            }
        }
    }
}

/// The three passes of a convolution.
public enum ConvPass: Hashable, Sendable { case forward, backwardData, backwardWeights }

extension Kernels {
    /// Which oneDNN implementation runs one pass of a convolution of this shape
    /// (e.g. "brgconv:avx512_core") and whether the pass reorders weights between
    /// PyTorch's OIHW and its own layout (for forward and backward data a
    /// `WeightKey` caches that reorder).
    public static func conv2dImplementation(_ g: Conv2DGeometry, pass: ConvPass = .forward, precision: Precision = .fp32) throws
        -> (name: String, reordersWeights: Bool) {
        try ExecutionContext.with { _ in
            let kind: ConvPlan.Kind = switch pass {
            case .forward: .forward(bias: false, activation: nil, accumulate: false)
            case .backwardData: .backwardData
            case .backwardWeights: .backwardWeights(bias: false)
            }
            let plan = try ConvPlan.get(g, kind, precision: pass == .forward ? precision : .fp32)
            return (plan.primitive.implementation, plan.weightsReorder != nil)
        }
    }
}
