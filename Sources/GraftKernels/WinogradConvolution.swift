import CDNNL
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// 3x3 stride-1 convolutions by Winograd F(4x4, 3x3) (oneDNN's jit_wino_4x3), forward passes only.
///
/// Winograd trades multiplies for transforms: on this machine it runs the 3x3 layers of VGG and
/// ResNet 2-2.8x faster than the direct algorithm (which is already near the fp32 FMA peak). The
/// transforms round differently (about 1e-6 of the output scale on whole networks, see
/// docs/KERNELS.md), far below what training or the PyTorch parity tests can see. Its weight
/// transform is slow (oneDNN's wino_reorder: 47-91 ms for 512x512x3x3), so the tensor layer asks
/// for it only when the weights are not being trained (the transform is cached per weight
/// version); backward passes stay direct.
/// oneDNN implements it on its blocked nChw16c layout only: activations are reordered from and to
/// NHWC around each call, a few percent of the saving, so the rest of Graft keeps one layout. The
/// batch runs in chunks so the blocked copies stay bounded (`chunkBytes`) whatever the batch.
final class WinogradConvPlan: ConvWeightsLayout, Sendable {
    struct Key: Hashable, Sendable { let geometry: Conv2DGeometry; let bias: Bool; let activation: Activation?; let accumulate: Bool }

    let primitive: Primitive
    let userWeights: OwnedMemoryDesc
    let weightsReorder: Primitive?
    var weightsDesc: UnsafePointer<dnnl_memory_desc_t> { primitive.md(dnnl_query_weights_md) }
    let weightsLayout: DescriptorBytes
    /// NHWC -> blocked for the input, and for the residual when accumulating.
    let srcIn: Primitive, dstIn: Primitive
    /// blocked -> NHWC for the output.
    let dstOut: Primitive
    /// Whether the convolution adds what dst holds (sum post-op).
    let accumulates: Bool

    /// Upper bound on each blocked activation copy; larger batches run in chunks of images.
    static let chunkBytes = 64 << 20

    /// 3x3, stride 1, no dilation, no groups, channels in whole 16-lane blocks (what jit_wino_4x3 takes).
    static func isCandidate(_ g: Conv2DGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1
            && g.groups == 1 && g.inChannels % 16 == 0 && g.outChannels % 16 == 0
    }

    /// Images per call for a batch of geometry `g` (at least one).
    static func chunk(_ g: Conv2DGeometry) -> Int {
        let perImage = 4 * max(g.height * g.width * g.inChannels, g.outHeight * g.outWidth * g.outChannels)
        return max(1, min(g.batch, chunkBytes / perImage))
    }

    private init?(_ key: Key) throws {
        let g = key.geometry
        let dims = (src: [g.batch, g.inChannels, g.height, g.width], dst: [g.batch, g.outChannels, g.outHeight, g.outWidth])
        let weightDims = [g.outChannels, g.inChannels, 3, 3]
        var s = try MemoryDesc.tagged(dims.src, dnnl_format_tag_any), o = try MemoryDesc.tagged(dims.dst, dnnl_format_tag_any)
        var w = try MemoryDesc.tagged(weightDims, dnnl_format_tag_any), b = try MemoryDesc.tagged([g.outChannels], dnnl_x)
        var d = dnnl_convolution_desc_t()
        let strides: [dnnl_dim_t] = [1, 1], dilates: [dnnl_dim_t] = [0, 0]
        let padL: [dnnl_dim_t] = [dnnl_dim_t(g.padTop), dnnl_dim_t(g.padLeft)]
        let padR: [dnnl_dim_t] = [dnnl_dim_t(g.padBottom), dnnl_dim_t(g.padRight)]
        let status = withUnsafePointer(to: &b) { bp in
            dnnl_dilated_convolution_forward_desc_init(&d, dnnl_forward_inference, dnnl_convolution_winograd, &s, &w,
                                                       key.bias ? bp : nil, &o, strides, dilates, padL, padR)
        }
        guard status == dnnl_success else { return nil }
        let sum = key.accumulate ? [Primitive.PostOp(algorithm: dnnl_alg_kind_undef, alpha: 0, beta: 0, sumScale: 1)] : []
        guard let p = try Primitive(trying: "\(g) winograd", opDesc: &d, postOps: sum + (key.activation.map { [$0.postOp] } ?? []))
        else { return nil }
        primitive = p
        accumulates = key.accumulate
        userWeights = OwnedMemoryDesc(try MemoryDesc.tagged(weightDims, dnnl_oihw))
        let weightsDesc = p.md(dnnl_query_weights_md)
        weightsLayout = DescriptorBytes(weightsDesc)
        weightsReorder = MemoryDesc.equal(weightsDesc, userWeights.pointer)
            ? nil : try Primitive(reorder: "\(g) winograd weights", from: userWeights.pointer, to: weightsDesc)
        let nhwc = (src: OwnedMemoryDesc(try MemoryDesc.tagged(dims.src, dnnl_nhwc)),
                    dst: OwnedMemoryDesc(try MemoryDesc.tagged(dims.dst, dnnl_nhwc)))
        srcIn = try Primitive(reorder: "\(g) winograd src", from: nhwc.src.pointer, to: p.md(dnnl_query_src_md))
        dstIn = try Primitive(reorder: "\(g) winograd residual", from: nhwc.dst.pointer, to: p.md(dnnl_query_dst_md))
        dstOut = try Primitive(reorder: "\(g) winograd dst", from: p.md(dnnl_query_dst_md), to: nhwc.dst.pointer)
    }

    /// Holds a plan or the knowledge that oneDNN has none for the key.
    final class Slot: Sendable {
        let plan: WinogradConvPlan?
        init(_ plan: WinogradConvPlan?) { self.plan = plan }
    }

    static let cache = PlanCache<Key, Slot>()

    static func get(_ key: Key) throws -> WinogradConvPlan? {
        try cache.plan(key) { try Slot(WinogradConvPlan(key)) }.plan
    }

    /// Runs the plan's batch of images of the caller's NHWC tensors (with the sum post-op, dst holds the residual).
    func run(src: UnsafePointer<Float>, weights: UnsafeRawPointer, bias: UnsafePointer<Float>?,
             dst: UnsafeMutablePointer<Float>, context: ExecutionContext) throws {
        let p = primitive
        let srcDesc = p.md(dnnl_query_src_md), dstDesc = p.md(dnnl_query_dst_md)
        let blockedSrc = try context.buffer(.output, bytes: MemoryDesc.bytes(srcDesc))
        let blockedDst = try context.buffer(.extra, bytes: MemoryDesc.bytes(dstDesc))
        try srcIn.execute(context, [PrimitiveArgument(role: DNNL_ARG_FROM, desc: srcIn.md(dnnl_query_src_md), data: src),
                                PrimitiveArgument(role: DNNL_ARG_TO, desc: srcDesc, data: blockedSrc)])
        if accumulates {
            try dstIn.execute(context, [PrimitiveArgument(role: DNNL_ARG_FROM, desc: dstIn.md(dnnl_query_src_md), data: dst),
                                    PrimitiveArgument(role: DNNL_ARG_TO, desc: dstDesc, data: blockedDst)])
        }
        var args = [
            PrimitiveArgument(role: DNNL_ARG_SRC, desc: srcDesc, data: blockedSrc),
            PrimitiveArgument(role: DNNL_ARG_WEIGHTS, desc: weightsDesc, data: weights),
            PrimitiveArgument(role: DNNL_ARG_DST, desc: dstDesc, data: blockedDst),
        ]
        if let bias { args.append(PrimitiveArgument(role: DNNL_ARG_BIAS, desc: p.md(dnnl_query_weights_md, 1), data: bias)) }
        try p.execute(context, args)
        try dstOut.execute(context, [PrimitiveArgument(role: DNNL_ARG_FROM, desc: dstDesc, data: blockedDst),
                                 PrimitiveArgument(role: DNNL_ARG_TO, desc: dstOut.md(dnnl_query_dst_md), data: dst)])
    }
}

private let winogradSwitch = Atomic<Bool>(getenv("GRAFT_WINOGRAD").map { String(cString: $0) != "0" } ?? true)

extension Kernels {
    /// Whether `conv2dForward(..., winograd: true)` may use Winograd where it applies: on unless
    /// GRAFT_WINOGRAD=0, switchable at run time (e.g. to compare against the direct algorithm).
    public static var winogradEnabled: Bool {
        get { winogradSwitch.load(ordering: .relaxed) }
        set { winogradSwitch.store(newValue, ordering: .relaxed) }
    }

    /// The Winograd path of `conv2dForward`: false (nothing written) when the geometry or
    /// post-ops have no Winograd implementation, so the caller runs the direct one.
    static func conv2dForwardWinograd(_ g: Conv2DGeometry, src: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                      weightKey: WeightKey?, bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>,
                                      activation: Activation?, accumulate: Bool) throws -> Bool {
        guard let (chunk, full, last) = try winogradPlans(g, bias: bias != nil, activation: activation, accumulate: accumulate)
        else { return false }
        let srcImage = g.height * g.width * g.inChannels, dstImage = g.outHeight * g.outWidth * g.outChannels
        try ExecutionContext.with { context in
            for first in stride(from: 0, to: g.batch, by: chunk) {
                let plan = g.batch - first >= chunk ? full : (last ?? full)
                // The cached copy is keyed on the plan's weights descriptor (oneDNN picks the blocking per problem size).
                let (w, keepAlive) = try plan.weights(weight, key: weightKey, use: .winograd, context: context)
                try plan.run(src: src + first * srcImage, weights: w, bias: bias, dst: dst + first * dstImage, context: context)
                withExtendedLifetime(keepAlive) {}
            }
        }
        return true
    }

    /// Images per call, the plan for a whole chunk and the one for a shorter last chunk (nil when the
    /// chunk divides the batch); nil when Winograd is off or oneDNN has no plan for either size.
    static func winogradPlans(_ g: Conv2DGeometry, bias: Bool, activation: Activation?, accumulate: Bool) throws
        -> (chunk: Int, full: WinogradConvPlan, last: WinogradConvPlan?)? {
        guard winogradEnabled, WinogradConvPlan.isCandidate(g) else { return nil }
        let chunk = WinogradConvPlan.chunk(g)
        func plan(images: Int) throws -> WinogradConvPlan? {
            var part = g
            part.batch = images
            return try WinogradConvPlan.get(.init(geometry: part, bias: bias, activation: activation, accumulate: accumulate))
        }
        guard let full = try plan(images: chunk) else { return nil }
        let rest = g.batch % chunk
        if rest == 0 { return (chunk, full, nil) }
        guard let last = try plan(images: rest) else { return nil }
        return (chunk, full, last)
    }
}

extension Kernels {
    /// The oneDNN implementation `conv2dForward(..., winograd: true)` runs for this geometry
    /// (e.g. "jit_wino_4x3:avx512_core"), or nil when it runs the direct algorithm instead.
    public static func winogradImplementation(_ g: Conv2DGeometry, activation: Activation? = nil,
                                              accumulate: Bool = false) throws -> String? {
        try ExecutionContext.with { _ in
            try winogradPlans(g, bias: true, activation: activation, accumulate: accumulate)?.full.primitive.implementation
        }
    }
}
