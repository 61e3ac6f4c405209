import CGraftKernels

/// Shape of an inverted-residual block (MobileNetV2 `InvertedResidual`,
/// EfficientNet `MBConvBlock`) for `Kernels.invertedResidualForward`: NHWC input
/// `[batch, inHeight, inWidth, inChannels]`, an optional 1x1 expansion to `hidden`
/// channels, a `kernel` x `kernel` depthwise conv with `stride` and top/left zero
/// padding (bottom/right follow from the output size), a 1x1 projection to `outChannels`.
public struct InvertedResidualShape: Hashable, Sendable {
    public var batch: Int, inHeight: Int, inWidth: Int, inChannels: Int
    public var hidden: Int, hasExpansion: Bool
    public var outHeight: Int, outWidth: Int, outChannels: Int
    public var kernel: Int, stride: Int, padTop: Int, padLeft: Int

    public init(batch: Int, inHeight: Int, inWidth: Int, inChannels: Int, hidden: Int, hasExpansion: Bool,
                outHeight: Int, outWidth: Int, outChannels: Int, kernel: Int, stride: Int, padTop: Int, padLeft: Int) {
        self.batch = batch; self.inHeight = inHeight; self.inWidth = inWidth; self.inChannels = inChannels
        self.hidden = hidden; self.hasExpansion = hasExpansion
        self.outHeight = outHeight; self.outWidth = outWidth; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padTop = padTop; self.padLeft = padLeft
    }

    /// What the fused kernel handles: kernel 1...8, no expansion only when `hidden == inChannels`.
    public var isSupported: Bool {
        (1...8).contains(kernel) && stride >= 1 && padTop >= 0 && padLeft >= 0 && padTop < kernel && padLeft < kernel
            && batch >= 0 && [inHeight, inWidth, inChannels, hidden, outHeight, outWidth, outChannels].allSatisfy { $0 >= 1 }
            && (hasExpansion || hidden == inChannels)
    }

    var c: graft_inverted_residual_shape {
        graft_inverted_residual_shape(batch: Int64(batch), in_h: Int64(inHeight), in_w: Int64(inWidth), in_c: Int64(inChannels),
                                      hidden: Int64(hidden), out_h: Int64(outHeight), out_w: Int64(outWidth),
                                      out_c: Int64(outChannels), kernel: Int64(kernel), stride: Int64(stride),
                                      pad_top: Int64(padTop), pad_left: Int64(padLeft), has_expand: hasExpansion ? 1 : 0)
    }
}

extension Kernels {
    /// Floats `invertedResidualPack` writes for blocks of this shape (the batch does not matter).
    public static func invertedResidualPackedCount(_ shape: InvertedResidualShape) -> Int {
        var s = shape.c
        return Int(graft_inverted_residual_packed_count(&s))
    }

    /// Packs folded (conv + frozen batch norm) weights for the fused block: expansion
    /// `[hidden, inChannels]` + bias (nil without expansion), depthwise `[hidden, k, k]` + bias,
    /// projection `[outChannels, hidden]` + bias. `packed` is 64-byte aligned, `invertedResidualPackedCount` long.
    public static func invertedResidualPack(_ shape: InvertedResidualShape,
                                            expand: (weight: UnsafePointer<Float>, bias: UnsafePointer<Float>)?,
                                            depthwise: (weight: UnsafePointer<Float>, bias: UnsafePointer<Float>),
                                            project: (weight: UnsafePointer<Float>, bias: UnsafePointer<Float>),
                                            into packed: UnsafeMutablePointer<Float>) {
        var s = shape.c
        graft_inverted_residual_pack(&s, expand?.weight, expand?.bias, depthwise.weight, depthwise.bias,
                                     project.weight, project.bias, packed)
    }

    /// 32-bit words `invertedResidualPackBF16` writes (stored in a Float buffer).
    public static func invertedResidualPackedBF16Count(_ shape: InvertedResidualShape) -> Int {
        var s = shape.c
        return Int(graft_inverted_residual_packed_bf16_count(&s))
    }

    /// The 1x1 weights of an `invertedResidualPack` buffer rounded to bf16, in pairs along the input channels (AMX's
    /// B-tile layout; for `invertedResidualForward(bf16:)`). `words` is 64-byte aligned.
    public static func invertedResidualPackBF16(_ shape: InvertedResidualShape, packed: UnsafePointer<Float>,
                                                into words: UnsafeMutablePointer<Float>) {
        var s = shape.c
        graft_inverted_residual_pack_bf16(&s, packed, words)
    }

    /// `project(relu6(depthwise(relu6(expand(input))))) + residual` for inference, in one pass per
    /// image: the expanded tensor stays in per-thread scratch rows (see docs/KERNELS.md). Parallel
    /// over images; `output` must not overlap `input` or `residual` (which has the output's shape).
    /// With `bf16` (`invertedResidualPackBF16`'s words) both 1x1 convolutions take bf16 operands with fp32
    /// sums; the rest stays fp32. Returns false for an unsupported shape or when scratch could not be allocated.
    public static func invertedResidualForward(_ shape: InvertedResidualShape, packed: UnsafePointer<Float>,
                                               bf16: UnsafePointer<Float>? = nil,
                                               input: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
                                               output: UnsafeMutablePointer<Float>) -> Bool {
        guard shape.isSupported else { return false }
        var s = shape.c
        graft_apply_threads()
        if let bf16 { return graft_inverted_residual_forward_bf16(&s, packed, bf16, input, residual, output) == 0 }
        return graft_inverted_residual_forward(&s, packed, input, residual, output) == 0
    }

    /// True when `invertedResidualForward(bf16:)` runs its bf16 GEMMs on bf16 instructions (else portable loops of the
    /// same arithmetic, for tests).
    public static var invertedResidualHasBF16: Bool { graft_inverted_residual_has_bf16() != 0 }

    /// Which instructions those are: "amx" (tiles) or "avx512_bf16" (`vdpbf16ps`, where there is no AMX); nil when none.
    public static var invertedResidualBF16ISA: String? { graft_inverted_residual_bf16_isa().map { String(cString: $0) } }

    /// The widest micro-kernels `invertedResidualForward` may use.
    public enum InvertedResidualISACap: Int32, Sendable, CaseIterable { case best = 0, avx512 = 1, avx2 = 2, portable = 3 }

    /// Caps the micro-kernels `invertedResidualForward` picks (`.best` again to pick by CPU): lets tests
    /// check the paths other CPUs take.
    public static func invertedResidualCapISA(_ cap: InvertedResidualISACap) { graft_inverted_residual_cap_isa(cap.rawValue) }

    /// The micro-kernels `invertedResidualForward` runs: `avx512`, `avx2` or `portable`.
    public static var invertedResidualISA: String { String(cString: graft_inverted_residual_isa()) }
}
