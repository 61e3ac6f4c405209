import GraftData
import GraftNN
import GraftTensor

/// MobileNetV2 as in torchvision (`torchvision/models/mobilenetv2.py`):
/// `features.0` (3x3 stride-2 conv), `features.1...17` inverted residuals,
/// `features.18` (1x1 conv to 1280), then global average pooling, dropout and
/// `classifier.1`. Keys match torchvision's (`features.3.conv.1.0.weight`).
public final class MobileNetV2: Module, ImageBackbone, @unchecked Sendable {  // unchecked: as Module
    public struct Config: Sendable, Equatable {
        public var name: String = "mobilenet_v2"
        /// torchvision `width_mult`: scales every width except the 1280-wide head (below 1).
        public var widthMultiplier: Float = 1
        public var numClasses: Int = 1000
        public var dropout: Float = 0.2

        public init(name: String = "mobilenet_v2", widthMultiplier: Float = 1, numClasses: Int = 1000, dropout: Float = 0.2) {
            self.name = name; self.widthMultiplier = widthMultiplier; self.numClasses = numClasses; self.dropout = dropout
        }
    }

    /// mobilenetv2.py `inverted_residual_setting`: expansion t, channels c, repeats n, stride s.
    static let setting: [(t: Int, c: Int, n: Int, s: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]

    /// mobilenetv2.py / _utils.py `_make_divisible` (divisor 8).
    static func makeDivisible(_ v: Float, _ divisor: Int = 8) -> Int {
        var n = max(divisor, Int(v + Float(divisor) / 2) / divisor * divisor)
        if Float(n) < 0.9 * v { n += divisor }
        return n
    }

    public let config: Config
    /// `features.0` ... `features.18`.
    public let features: [any UnaryLayer]
    public var classifier: Linear
    private let featureList: ModuleList<Module>
    private let dropout: Dropout

    public init(_ config: Config = .init(), seed: UInt64 = 0) throws {
        guard config.widthMultiplier > 0, config.widthMultiplier.isFinite, config.numClasses >= 1 else {
            throw ModelError.invalidConfig("\(config.name): width multiplier \(config.widthMultiplier), classes \(config.numClasses)")
        }
        self.config = config
        var g = SeededGenerator(seed: seed)
        let w = config.widthMultiplier
        var input = Self.makeDivisible(32 * w)
        let last = Self.makeDivisible(1280 * max(1, w))
        var layers: [any UnaryLayer] = [conv2dNormActivation(3, input, kernel: 3, stride: 2, generator: &g)]
        for (t, c, n, s) in Self.setting {
            let output = Self.makeDivisible(Float(c) * w)
            for i in 0..<n {
                layers.append(InvertedResidual(input, output, stride: i == 0 ? s : 1, expansion: t, generator: &g))
                input = output
            }
        }
        layers.append(conv2dNormActivation(input, last, kernel: 1, generator: &g))
        features = layers
        featureList = ModuleList(layers.map { $0 as Module })
        classifier = Linear(last, config.numClasses, generator: &g)
        dropout = Dropout(config.dropout, seed: seed &+ 1)
    }

    public var architecture: String { config.name }
    /// `classifier.0` is the dropout, which has no state.
    public var classifierKey: String { "classifier.1" }
    public var featureSize: Int { classifier.inFeatures }
    public var preprocessing: Preprocessing { .imageNet() }

    public override var keyedChildren: [(String, Module)] {
        [("features", featureList), ("classifier", ModuleList<Module>([dropout, classifier]))]
    }

    /// `features.0` ... `features.18`, `penultimate`, `logits`.
    public var cutPoints: [String] { features.indices.map { "features.\($0)" } + ["penultimate", "logits"] }

    /// `features.0` ... `features.18`, in order.
    public var stages: [Module] { featureList.items }

    public func forward(_ x: Tensor, upTo cut: String?, training: Bool) throws -> Tensor {
        try checkCut(cut)
        // Each block's input is this loop's own intermediate: nothing else reads it. In int8 consecutive blocks hand
        // each other codes (InvertedResidualInt8Chain.swift), the stem writes codes for the first; other layers and
        // a cut point read fp32.
        var carried = Int8BlockTensor.fp32(x)
        for (i, layer) in features.enumerated() {
            if let block = layer as? InvertedResidual, i > 0 {
                let after = i + 1 < features.count && cut != "features.\(i)" ? features[i + 1] as? InvertedResidual : nil
                carried = try block.fused.blockForward(carried, next: after?.fused.chainInput(training: training, probe: x), training: training)
            } else if let unit = layer as? ConvBatchNorm, i + 1 < features.count, cut != "features.\(i)",
                      let block = features[i + 1] as? InvertedResidual {
                // The stem writes codes for the first block's chain when it runs as one.
                carried = try unit.forward(carried.fp32(), next: block.fused.chainInput(training: training, probe: x), training: training)
            } else {
                carried = .fp32(try layer.forward(carried.fp32(), training: training))
            }
            if cut == "features.\(i)" { return try carried.fp32() }
        }
        var h = try carried.fp32().globalAvgPool2d()
        if cut == "penultimate" { return h }
        h = try dropout.forward(h, training: training)
        return try classifier.forward(h, training: training)
    }
}

/// torchvision `Conv2dNormActivation` with ReLU6: a conv + BN unit keyed "0" (conv, no bias,
/// padding (k - 1) / 2) and "1" (batch norm).
func conv2dNormActivation(_ input: Int, _ output: Int, kernel: Int, stride: Int = 1, groups: Int = 1,
                          generator g: inout SeededGenerator) -> ConvBatchNorm {
    ConvBatchNorm(Conv2d(input, output, kernel: kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false,
                         generator: &g), BatchNorm2d(output), .relu6, keys: ("0", "1"))
}

/// mobilenetv2.py `InvertedResidual`: optional 1x1 expansion (when t != 1),
/// 3x3 depthwise, linear 1x1 projection; a residual when shape is kept.
/// Keys under `conv`: [expand "0".0/.1,] depthwise ".0/.1", projection conv, BN (the projection's
/// conv and BN are siblings of the nested units, as in the reference's `nn.Sequential`).
public final class InvertedResidual: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    /// The block's conv + BN units: fused into one kernel at inference, separate in training.
    let fused: FusedInvertedResidual

    init(_ input: Int, _ output: Int, stride: Int, expansion: Int, generator g: inout SeededGenerator) {
        let hidden = input * expansion
        let expand = expansion != 1 ? conv2dNormActivation(input, hidden, kernel: 1, generator: &g) : nil
        let depthwise = conv2dNormActivation(hidden, hidden, kernel: 3, stride: stride, groups: hidden, generator: &g)
        let project = ConvBatchNorm(Conv2d(hidden, output, kernel: 1, bias: false, generator: &g), BatchNorm2d(output), nil)
        fused = FusedInvertedResidual(expand: expand, depthwise: depthwise, project: project,
                                      residual: stride == 1 && input == output)
    }

    public override var keyedChildren: [(String, Module)] {
        let nested: [Module] = (fused.expand.map { [$0] } ?? []) + [fused.depthwise]
        return [("conv", SubModules(nested + [fused.project.conv, fused.project.bn]))]
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try forward(x, training: training, consumingInput: false)
    }

    /// `consumingInput`: nobody reads `x` afterwards, so the residual sum can
    /// write the output into its buffer. Inference runs the block as one fused kernel
    /// (`FusedInvertedResidual`).
    func forward(_ x: Tensor, training: Bool, consumingInput: Bool) throws -> Tensor {
        try fused.blockForward(x, training: training, consumingInput: consumingInput)
    }
}
