import GraftData
import GraftNN
import GraftTensor

/// EfficientNet-Lite0...4, mirroring `efficientnet_lite_pytorch/model.py`
/// (lukemelas' EfficientNet-PyTorch with the TF "lite" changes): ReLU6
/// instead of swish, no squeeze-excite, stem and head not width-scaled,
/// first and last stage repeats not depth-scaled, TF "SAME" padding,
/// BN eps 1e-3. Keys match the published state dicts (`_blocks.3._bn1.weight`).
public final class EfficientNetLite: Module, ImageBackbone, @unchecked Sendable {  // unchecked: as Module
    public struct Config: Sendable, Equatable {
        public var name: String
        public var widthCoefficient: Float
        public var depthCoefficient: Float
        public var resolution: Int
        public var dropout: Float
        public var numClasses: Int = 1000

        /// (width, depth, resolution, dropout) from utils.py `efficientnet_params`.
        public static func lite(_ n: Int, numClasses: Int = 1000) throws -> Config {
            let table: [(Float, Float, Int, Float)] = [(1.0, 1.0, 224, 0.2), (1.0, 1.1, 240, 0.2), (1.1, 1.2, 260, 0.3),
                                                       (1.2, 1.4, 280, 0.3), (1.4, 1.8, 300, 0.3)]
            guard table.indices.contains(n) else { throw ModelError.invalidConfig("EfficientNet-Lite\(n) does not exist (0...4)") }
            let (w, d, r, p) = table[n]
            return Config(name: "efficientnet-lite\(n)", widthCoefficient: w, depthCoefficient: d, resolution: r, dropout: p, numClasses: numClasses)
        }
    }

    /// One stage of `blocks_args`: repeats, kernel, stride, expansion, in, out.
    struct StageArgs { var repeats: Int, kernel: Int, stride: Int, expand: Int, input: Int, output: Int }
    static let baseStages: [StageArgs] = [
        .init(repeats: 1, kernel: 3, stride: 1, expand: 1, input: 32, output: 16),
        .init(repeats: 2, kernel: 3, stride: 2, expand: 6, input: 16, output: 24),
        .init(repeats: 2, kernel: 5, stride: 2, expand: 6, input: 24, output: 40),
        .init(repeats: 3, kernel: 3, stride: 2, expand: 6, input: 40, output: 80),
        .init(repeats: 3, kernel: 5, stride: 1, expand: 6, input: 80, output: 112),
        .init(repeats: 4, kernel: 5, stride: 2, expand: 6, input: 112, output: 192),
        .init(repeats: 1, kernel: 3, stride: 1, expand: 6, input: 192, output: 320),
    ]

    public let config: Config
    let convStem: Conv2d
    let bn0: BatchNorm2d
    public let blocks: ModuleList<MBConvBlock>
    let convHead: Conv2d
    let bn1: BatchNorm2d
    public var classifier: Linear
    private let stem: ConvBatchNorm
    private let head: ConvBatchNorm
    private let dropout: Dropout

    public init(_ config: Config, seed: UInt64 = 0) {
        self.config = config
        var g = SeededGenerator(seed: seed)
        func roundFilters(_ f: Int) -> Int {
            // utils.py round_filters (depth_divisor 8, min_depth None).
            let scaled = Float(f) * config.widthCoefficient
            var n = max(8, Int(scaled + 4) / 8 * 8)
            if Float(n) < 0.9 * scaled { n += 8 }
            return n
        }
        convStem = Conv2d(3, 32, kernel: 3, stride: 2, bias: false, generator: &g)
        convStem.samePadding = true
        bn0 = BatchNorm2d(32, epsilon: 1e-3, momentum: 0.01)
        var blocks: [MBConvBlock] = []
        let stages = Self.baseStages
        for (i, var s) in stages.enumerated() {
            let fixed = i == 0 || i == stages.count - 1
            let input = i == 0 ? 32 : roundFilters(s.input)
            s.output = roundFilters(s.output)
            let repeats = fixed ? s.repeats : Int((config.depthCoefficient * Float(s.repeats)).rounded(.up))
            blocks.append(MBConvBlock(input: input, output: s.output, expand: s.expand, kernel: s.kernel, stride: s.stride, generator: &g))
            for _ in 1..<max(repeats, 1) {
                blocks.append(MBConvBlock(input: s.output, output: s.output, expand: s.expand, kernel: s.kernel, stride: 1, generator: &g))
            }
        }
        self.blocks = ModuleList(blocks)
        convHead = Conv2d(blocks.last!.outputChannels, 1280, kernel: 1, bias: false, generator: &g)
        convHead.samePadding = true
        bn1 = BatchNorm2d(1280, epsilon: 1e-3, momentum: 0.01)
        classifier = Linear(1280, config.numClasses, generator: &g)
        stem = ConvBatchNorm(convStem, bn0, .relu6)
        head = ConvBatchNorm(convHead, bn1, .relu6)
        dropout = Dropout(config.dropout, seed: seed &+ 1)
    }

    public var architecture: String { config.name }
    public var classifierKey: String { "_fc" }
    public var featureSize: Int { 1280 }
    /// TF EfficientNet-Lite evaluation: center crop (padding 32), resize, (x - 127) / 128.
    public var preprocessing: Preprocessing { .efficientNetLite(inputSize: config.resolution) }

    public override var keyedChildren: [(String, Module)] {
        [("_conv_stem", convStem), ("_bn0", bn0), ("_blocks", blocks), ("_conv_head", convHead), ("_bn1", bn1), ("_fc", classifier)]
    }

    public var cutPoints: [String] {
        ["stem"] + (0..<blocks.count).map { "block\($0)" } + ["head", "penultimate", "logits"]
    }

    /// Stem, each MBConv block, and the 1x1 head conv.
    public var stages: [Module] {
        [SubModules([convStem, bn0])] + blocks.items + [SubModules([convHead, bn1])]
    }

    public func forward(_ x: Tensor, upTo cut: String?, training: Bool) throws -> Tensor {
        try checkCut(cut)
        var h = try stem.forward(x, training: training)
        if cut == "stem" { return h }
        for (i, block) in blocks.items.enumerated() {
            // Each block's input is this loop's own intermediate: nothing else reads it.
            h = try block.forward(h, training: training, consumingInput: true)
            if cut == "block\(i)" { return h }
        }
        h = try head.forward(h, training: training)
        if cut == "head" { return h }
        h = try h.globalAvgPool2d()
        if cut == "penultimate" { return h }
        h = try dropout.forward(h, training: training)
        return try classifier.forward(h, training: training)
    }
}

/// Mobile inverted bottleneck without squeeze-excite (model.py `MBConvBlock`).
public final class MBConvBlock: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    let expandConv: Conv2d?
    let bn0: BatchNorm2d?
    let depthwiseConv: Conv2d
    let bn1: BatchNorm2d
    let projectConv: Conv2d
    let bn2: BatchNorm2d
    let residual: Bool
    /// The block's conv + BN units: fused into one kernel at inference, separate in training.
    let fused: FusedInvertedResidual

    init(input: Int, output: Int, expand e: Int, kernel: Int, stride: Int, generator g: inout SeededGenerator) {
        let hidden = input * e
        let expand: ConvBatchNorm?
        if e != 1 {
            let c = Conv2d(input, hidden, kernel: 1, bias: false, generator: &g)
            c.samePadding = true
            let bn = BatchNorm2d(hidden, epsilon: 1e-3, momentum: 0.01)
            expandConv = c; bn0 = bn
            expand = ConvBatchNorm(c, bn, .relu6)
        } else {
            expandConv = nil; bn0 = nil; expand = nil
        }
        depthwiseConv = Conv2d(hidden, hidden, kernel: kernel, stride: stride, groups: hidden, bias: false, generator: &g)
        depthwiseConv.samePadding = true
        bn1 = BatchNorm2d(hidden, epsilon: 1e-3, momentum: 0.01)
        projectConv = Conv2d(hidden, output, kernel: 1, bias: false, generator: &g)
        projectConv.samePadding = true
        bn2 = BatchNorm2d(output, epsilon: 1e-3, momentum: 0.01)
        residual = stride == 1 && input == output
        fused = FusedInvertedResidual(expand: expand, depthwise: ConvBatchNorm(depthwiseConv, bn1, .relu6),
                                      project: ConvBatchNorm(projectConv, bn2, nil), residual: residual)
    }

    var outputChannels: Int { projectConv.outChannels }

    public override var keyedChildren: [(String, Module)] {
        var c: [(String, Module)] = []
        if let expandConv, let bn0 { c += [("_expand_conv", expandConv), ("_bn0", bn0)] }
        return c + [("_depthwise_conv", depthwiseConv), ("_bn1", bn1), ("_project_conv", projectConv), ("_bn2", bn2)]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try forward(x, training: training, consumingInput: false)
    }

    /// `consumingInput`: nobody reads `x` afterwards, so the residual sum can
    /// write the output into its buffer. Inference runs the block as one fused kernel
    /// (`FusedInvertedResidual`). Drop-connect is a training regulariser of the
    /// reference; Graft's fine-tuning of a few blocks does not use it.
    func forward(_ x: Tensor, training: Bool, consumingInput: Bool) throws -> Tensor {
        try fused.blockForward(x, training: training, consumingInput: consumingInput)
    }
}

/// Groups modules for freezing without adding a key level.
public final class SubModules: Module, @unchecked Sendable {  // unchecked: as Module
    let members: [Module]
    public init(_ members: [Module]) { self.members = members }
    public override var keyedChildren: [(String, Module)] { members.enumerated().map { ("\($0.offset)", $0.element) } }
}
