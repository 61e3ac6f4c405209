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
    /// `_conv_stem` + `_bn0`.
    let stem: ConvBatchNorm
    public let blocks: ModuleList<MBConvBlock>
    /// `_conv_head` + `_bn1`.
    let head: ConvBatchNorm
    public var classifier: Linear
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
        stem = ConvBatchNorm(MBConvBlock.sameConv(3, 32, kernel: 3, stride: 2, generator: &g), MBConvBlock.bn(32), .relu6,
                             keys: ("_conv_stem", "_bn0"))
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
        head = ConvBatchNorm(MBConvBlock.sameConv(blocks.last!.outputChannels, 1280, kernel: 1, generator: &g),
                             MBConvBlock.bn(1280), .relu6, keys: ("_conv_head", "_bn1"))
        classifier = Linear(1280, config.numClasses, generator: &g)
        dropout = Dropout(config.dropout, seed: seed &+ 1)
    }

    public var architecture: String { config.name }
    public var classifierKey: String { "_fc" }
    public var featureSize: Int { 1280 }
    /// TF EfficientNet-Lite evaluation: center crop (padding 32), resize, (x - 127) / 128.
    public var preprocessing: Preprocessing { .efficientNetLite(inputSize: config.resolution) }

    public override var keyedChildren: [(String, Module)] {
        stem.keyedChildren + [("_blocks", blocks)] + head.keyedChildren + [("_fc", classifier)]
    }

    public var cutPoints: [String] {
        ["stem"] + (0..<blocks.count).map { "block\($0)" } + ["head", "penultimate", "logits"]
    }

    /// Stem, each MBConv block, and the 1x1 head conv.
    public var stages: [Module] {
        [stem] + blocks.items + [head]
    }

    public func forward(_ x: Tensor, upTo cut: String?, training: Bool) throws -> Tensor {
        try checkCut(cut)
        // Each block's input is this loop's own intermediate: nothing else reads it. In int8 the stem and consecutive
        // blocks hand each other codes (InvertedResidualInt8Chain.swift); the head and a cut point read fp32.
        let items = blocks.items
        let first = cut == "stem" ? nil : items.first?.fused.chainInput(training: training, probe: x)
        var carried = try stem.forward(x, next: first, training: training)
        if cut == "stem" { return try carried.fp32() }
        for (i, block) in items.enumerated() {
            let after = i + 1 < items.count && cut != "block\(i)" ? items[i + 1] : nil
            carried = try block.fused.blockForward(carried, next: after?.fused.chainInput(training: training, probe: x), training: training)
            if cut == "block\(i)" { return try carried.fp32() }
        }
        var h = try head.forward(carried.fp32(), training: training)
        if cut == "head" { return h }
        h = try h.globalAvgPool2d()
        if cut == "penultimate" { return h }
        h = try dropout.forward(h, training: training)
        return try classifier.forward(h, training: training)
    }
}

/// Mobile inverted bottleneck without squeeze-excite (model.py `MBConvBlock`).
public final class MBConvBlock: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    /// `_expand_conv` + `_bn0` (when the expansion is not 1), `_depthwise_conv` + `_bn1`,
    /// `_project_conv` + `_bn2`: fused into one kernel at inference, separate in training.
    let fused: FusedInvertedResidual

    init(input: Int, output: Int, expand e: Int, kernel: Int, stride: Int, generator g: inout SeededGenerator) {
        let hidden = input * e
        let expand = e == 1 ? nil : ConvBatchNorm(Self.sameConv(input, hidden, kernel: 1, generator: &g), Self.bn(hidden),
                                                  .relu6, keys: ("_expand_conv", "_bn0"))
        let depthwise = ConvBatchNorm(Self.sameConv(hidden, hidden, kernel: kernel, stride: stride, groups: hidden, generator: &g),
                                      Self.bn(hidden), .relu6, keys: ("_depthwise_conv", "_bn1"))
        let project = ConvBatchNorm(Self.sameConv(hidden, output, kernel: 1, generator: &g), Self.bn(output), nil,
                                    keys: ("_project_conv", "_bn2"))
        fused = FusedInvertedResidual(expand: expand, depthwise: depthwise, project: project,
                                      residual: stride == 1 && input == output)
    }

    /// model.py's `Conv2dStaticSamePadding` (no bias) and `BatchNorm2d(momentum 0.01, eps 1e-3)`.
    static func sameConv(_ input: Int, _ output: Int, kernel: Int, stride: Int = 1, groups: Int = 1,
                         generator g: inout SeededGenerator) -> Conv2d {
        let conv = Conv2d(input, output, kernel: kernel, stride: stride, groups: groups, bias: false, generator: &g)
        conv.samePadding = true
        return conv
    }

    static func bn(_ channels: Int) -> BatchNorm2d { BatchNorm2d(channels, epsilon: 1e-3, momentum: 0.01) }

    var outputChannels: Int { fused.outputChannels }

    public override var keyedChildren: [(String, Module)] { fused.units.flatMap(\.keyedChildren) }

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
