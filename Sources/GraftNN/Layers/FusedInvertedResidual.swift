import Foundation
import GraftKernels
import GraftTensor
import Synchronization

/// The inference path of an inverted-residual block (expand 1x1 + BN + ReLU6,
/// depthwise + BN + ReLU6, project 1x1 + BN, optional residual) as one fused
/// kernel: the expanded tensor, the widest of the block, never goes to memory
/// (`Kernels.invertedResidualForward`). Folded weights come from the blocks'
/// own `ConvBatchNorm`s and are packed once, until a source tensor changes.
///
/// `forward` returns nil whenever the block must run unfused: a tape is
/// recording or batch statistics are in use (training keeps the separate,
/// differentiable ops), or the size policy says no. The policy, measured at
/// 2 threads on EfficientNet-Lite0 and MobileNetV2: when every thread gets
/// whole images (batch divisible by the thread count, or at least 4 images per
/// thread) every block is faster fused, 7x7 included; smaller batches are
/// split into bands of rows and then fit in cache anyway, so only blocks of
/// at least 28x28 fuse (below that the halo rows computed twice and the short
/// rows cost more than the memory traffic saved). That is on AVX-512; on AVX2 + FMA
/// blocks fuse only when asked (`policyEnabled`), then whole images from 14x14 (`avx2MinimumSide`).
public final class FusedInvertedResidual: Sendable {
    public let expand: ConvBatchNorm?
    public let depthwise: ConvBatchNorm
    public let project: ConvBatchNorm
    public let residual: Bool
    /// The packed weights (and their bf16 words, once bf16 asked for them) and the folded tensors' storage
    /// ids they were packed from.
    private let packed = Mutex<(key: [Int], values: Tensor, bf16: Tensor?)?>(nil)

    /// `GRAFT_FUSED_BLOCK_MIN_SIDE`: fuse exactly the blocks whose input is at least this
    /// high and wide (0: none), instead of the size policy; unset: the policy.
    public static let defaultMinimumSide: Int? = {
        guard let v = ProcessInfo.processInfo.environment["GRAFT_FUSED_BLOCK_MIN_SIDE"], let side = Int(v) else { return nil }
        return side <= 0 ? Int.max : side
    }()

    /// Overrides the size policy in this task: `$minimumSide.withValue(1) { ... }` fuses every
    /// block, `.max` none (comparisons, tests). nil: the policy.
    @TaskLocal public static var minimumSide: Int? = defaultMinimumSide

    /// Input side from which blocks fuse when the batch is split into bands of rows.
    static let bandedMinimumSide = 28

    /// `expand` has ReLU6, `depthwise` is a ReLU6 depthwise conv, `project` a 1x1 conv without activation.
    public init(expand: ConvBatchNorm?, depthwise: ConvBatchNorm, project: ConvBatchNorm, residual: Bool) {
        self.expand = expand; self.depthwise = depthwise; self.project = project; self.residual = residual
    }

    /// The block's units in order (expansion when there is one, depthwise, projection).
    public var units: [ConvBatchNorm] { (expand.map { [$0] } ?? []) + [depthwise, project] }

    /// Channels out of the projection.
    public var outputChannels: Int { project.conv.outChannels }

    /// The block's output: fused when `forward(_:training:minimumSide:)` can, else `unfusedForward`.
    /// `consumingInput`: nobody reads `x` afterwards, so the unfused residual sum can write into its buffer.
    public func blockForward(_ x: Tensor, training: Bool, consumingInput: Bool) throws -> Tensor {
        if let y = try forward(x, training: training) { return y }
        return try unfusedForward(x, training: training, consumingInput: consumingInput)
    }

    /// Expansion, depthwise and projection as separate (oneDNN) convolutions: the training path, and the
    /// reference the fused kernel is tested against. At inference the residual add is a sum post-op of
    /// the projection.
    public func unfusedForward(_ x: Tensor, training: Bool, consumingInput: Bool) throws -> Tensor {
        var h = x
        if let expand { h = try expand.forward(h, training: training) }
        h = try depthwise.forward(h, training: training)
        guard residual else { return try project.forward(h, training: training) }
        return try project.forward(h, adding: x, then: nil, training: training, consumingResidual: consumingInput)
    }

    /// The block's output, or nil when it has to run unfused (see the type's comment).
    /// `minimumSide` (default: `FusedInvertedResidual.minimumSide`) replaces the size policy.
    public func forward(_ x: Tensor, training: Bool, minimumSide: Int? = nil) throws -> Tensor? {
        guard !Calibration.isRecording else { return nil }   // calibration records each convolution's input
        if ComputePrecision.current == .int8 && !Self.fusesAtInt8 {
            return try int8Forward(.fp32(x), next: nil, training: training, consumingInput: false)?.fp32()
        }
        guard ComputePrecision.current == .fp32 || Self.fusesAtLowPrecision else { return nil }
        guard x.rank == 4, x.shape[0] >= 1, Self.fuses(batch: x.shape[0], side: min(x.shape[1], x.shape[2]),
                                                       minimumSide: minimumSide ?? Self.minimumSide),
              let shape = shape(for: x) else { return nil }
        let units = [expand, depthwise, project].compactMap { $0 }
        guard units.allSatisfy({ $0.runsFolded(x, training: training) }) else { return nil }
        let weights = try packedWeights(shape, bf16: ComputePrecision.current == .bf16 && Self.bf16Kernel)
        let y = try Tensor(uninitializedShape: [shape.batch, shape.outHeight, shape.outWidth, shape.outChannels])
        // False only when the kernel's scratch could not be allocated (the shape was checked): run unfused.
        let done = Kernels.invertedResidualForward(shape, packed: weights.values.pointer, bf16: weights.bf16?.pointer,
                                                   input: x.pointer, residual: residual ? x.pointer : nil, output: y.pointer)
        return done ? y : nil
    }

    /// Whether a block with `batch` inputs of (smaller) side `side` runs fused: `side >= minimumSide`
    /// when given, else the size policy above.
    public static func fuses(batch: Int, side: Int, minimumSide: Int?) -> Bool {
        if let minimumSide { return side >= minimumSide }
        return policyEnabled && sizePolicy(batch: batch, side: side)
    }

    /// The size policy applies by default only where the fused kernel has AVX-512 micro-kernels. Its portable
    /// loops ran every EfficientNet-Lite0 block at 0.12-0.36x its unfused twin (AMD EPYC, session 5). Its AVX2 + FMA
    /// micro-kernels won 1.15x on Lite0 on session 5's AMD EPYC but lost on the EPYC of sessions 13-18 (1 MiB L2
    /// per core): whole networks ran 0.83-0.95x the speed of separate oneDNN convolutions there (in-process A/B
    /// alternating forward by forward, both orders, `graft-bench-vision --fusion-sides`; bench/RESULTS.md
    /// "Session 18"), so on AVX2 nothing fuses unless asked. `GRAFT_FUSED_BLOCK_POLICY=0` turns the policy off,
    /// `=1` on whatever the CPU (on AVX2: whole images from 14x14, `avx2MinimumSide`).
    public static let policyEnabled: Bool = {
        switch ProcessInfo.processInfo.environment["GRAFT_FUSED_BLOCK_POLICY"] {
        case "0": return false
        case "1": return true
        default: return Kernels.invertedResidualISA == "avx512"
        }
    }()

    /// Whether blocks still run the fused kernel when inference asks for bf16, else the separate oneDNN
    /// convolutions in bf16 (docs/PRECISION.md has the measurements behind the default).
    /// `GRAFT_BF16_FUSED_BLOCKS=0|1` overrides it.
    public static let fusesAtLowPrecision: Bool = {
        switch ProcessInfo.processInfo.environment["GRAFT_BF16_FUSED_BLOCKS"] {
        case "0": return false
        case "1": return true
        default: return true
        }
    }()

    /// Whether the fused kernel's 1x1 convolutions run on bf16 operands when inference asks for bf16: AMX tiles where
    /// the CPU has them, else AVX512-BF16 dot products, else fp32 (`Kernels.invertedResidualBF16ISA`; docs/KERNELS.md).
    /// `GRAFT_BF16_FUSED_KERNEL=0` keeps them fp32.
    @TaskLocal public static var bf16Kernel: Bool =
        ProcessInfo.processInfo.environment["GRAFT_BF16_FUSED_KERNEL"] != "0" && Kernels.invertedResidualHasBF16

    /// Whether blocks run the fused fp32 kernel when inference asks for int8, else (the default) one int8 chain of their
    /// calibrated convolutions (`int8Forward`): measured 1.4-3.3x faster on EfficientNet-Lite0 and 1.6-1.8x on MobileNetV2
    /// at batch 32 (docs/PRECISION.md). Task-local so tests and benchmarks can run both; `GRAFT_INT8_FUSED_BLOCKS=0|1`
    /// sets the default. Where the size policy does not fuse a block (on AVX2 by default) it runs its convolutions
    /// one by one, each in int8.
    @TaskLocal public static var fusesAtInt8: Bool = {
        switch ProcessInfo.processInfo.environment["GRAFT_INT8_FUSED_BLOCKS"] {
        case "1": return true
        default: return false
        }
    }()

    /// The fused kernel's micro-kernels on this CPU (`avx512`, `avx2`, `portable`), read once.
    public static let kernelISA = Kernels.invertedResidualISA

    /// Input side from which blocks fuse with whole images per thread on AVX2: 7x7 blocks ran 0.75-0.83x
    /// their unfused twins, 14x14 and up 0.98-1.6x (`graft-bench-vision --blocks`, AMD EPYC, batch 32).
    static let avx2MinimumSide = 14

    /// Mirrors the kernel's split (inverted_residual.c): whole images per thread, or bands of rows.
    public static func sizePolicy(batch: Int, side: Int, isa: String = kernelISA) -> Bool {
        let threads = max(Runtime.threads, 1)
        let wholeImages = batch % threads == 0 || batch >= 4 * threads
        if isa == "avx2" { return side >= (wholeImages ? avx2MinimumSide : bandedMinimumSide) }
        return wholeImages || side >= bandedMinimumSide
    }

    /// The kernel's shape for input `x`, or nil when the block is not of the kind it handles.
    func shape(for x: Tensor) -> InvertedResidualShape? {
        let dw = depthwise.conv, o = dw.options(for: x)
        let hidden = dw.outChannels, k = dw.kernelSize
        guard dw.weight.shape == [hidden, 1, k, k], o.groups == hidden, o.strideH == o.strideW,
              o.dilationH == 1, o.dilationW == 1, depthwise.activation == .relu6, project.activation == nil else { return nil }
        func isPointwise(_ unit: ConvBatchNorm, from input: Int, to output: Int) -> Bool {
            let c = unit.conv, po = c.options(for: x)
            return c.weight.shape == [output, input, 1, 1] && po.strideH == 1 && po.strideW == 1 && po.groups == 1
                && po.padTop == 0 && po.padBottom == 0 && po.padLeft == 0 && po.padRight == 0
        }
        let input = x.shape[3], outputs = project.conv.outChannels
        if let expand {
            guard expand.activation == .relu6, isPointwise(expand, from: input, to: hidden) else { return nil }
        } else if input != hidden {
            return nil
        }
        guard isPointwise(project, from: hidden, to: outputs) else { return nil }
        let (h, w) = (x.shape[1], x.shape[2])
        let outH = (h + o.padTop + o.padBottom - k) / o.strideH + 1, outW = (w + o.padLeft + o.padRight - k) / o.strideW + 1
        guard outH >= 1, outW >= 1 else { return nil }
        if residual && (outH != h || outW != w || outputs != input) { return nil }
        let shape = InvertedResidualShape(batch: x.shape[0], inHeight: h, inWidth: w, inChannels: input, hidden: hidden,
                                          hasExpansion: expand != nil, outHeight: outH, outWidth: outW, outChannels: outputs,
                                          kernel: k, stride: o.strideH, padTop: o.padTop, padLeft: o.padLeft)
        return shape.isSupported ? shape : nil
    }

    /// The packed weights, and their bf16 words when `bf16`.
    private func packedWeights(_ shape: InvertedResidualShape, bf16: Bool) throws -> (values: Tensor, bf16: Tensor?) {
        let e = try expand?.foldedWeights(), d = try depthwise.foldedWeights(), p = try project.foldedWeights()
        // Folded tensors are new objects whenever a source changed, so their storage ids key the packing.
        let key = [e?.weight.storage.id ?? -1, d.weight.storage.id, p.weight.storage.id]
        func pointers(_ t: (weight: Tensor, bias: Tensor)) -> (weight: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
            (UnsafePointer(t.weight.pointer), UnsafePointer(t.bias.pointer))
        }
        return try packed.withLock { cached in
            var entry: (key: [Int], values: Tensor, bf16: Tensor?)
            if let cached, cached.key == key {
                entry = cached
            } else {
                let values = try Tensor(uninitializedShape: [Kernels.invertedResidualPackedCount(shape)])
                Kernels.invertedResidualPack(shape, expand: e.map(pointers), depthwise: pointers(d), project: pointers(p),
                                             into: values.pointer)
                entry = (key, values, nil)
            }
            if bf16 && entry.bf16 == nil { entry.bf16 = try Self.bf16Words(shape, packed: entry.values) }
            cached = entry
            return (entry.values, bf16 ? entry.bf16 : nil)
        }
    }

    /// `packed` (the kernel's fp32 packing for blocks of `shape`) with its 1x1 weights as the bf16 words the kernel's
    /// AMX GEMMs read (`Kernels.invertedResidualPackBF16`).
    public static func bf16Words(_ shape: InvertedResidualShape, packed: Tensor) throws -> Tensor {
        let words = try Tensor(uninitializedShape: [Kernels.invertedResidualPackedBF16Count(shape)])
        Kernels.invertedResidualPackBF16(shape, packed: packed.pointer, into: words.pointer)
        return words
    }
}
