import GraftData
import GraftKernels
import GraftNN
import GraftTensor

/// ResNet-18/34/50 as in torchvision (`torchvision/models/resnet.py`, the
/// v1.5 variant: a bottleneck strides in its 3x3 conv). Keys match
/// torchvision's state dict (`layer2.0.downsample.1.running_var`, `fc.weight`),
/// so a torchvision checkpoint loads strictly.
public final class ResNet: Module, ImageBackbone, @unchecked Sendable {  // unchecked: as Module
    public struct Config: Sendable, Equatable {
        public enum Block: String, Sendable { case basic, bottleneck }
        public var name: String
        public var block: Block
        /// Blocks per stage (resnet.py `layers`).
        public var layers: [Int]
        /// `planes` of each stage; the stem has `widths[0]` channels (resnet.py `inplanes = 64`).
        public var widths: [Int] = [64, 128, 256, 512]
        public var numClasses: Int = 1000

        public init(name: String, block: Block, layers: [Int], widths: [Int] = [64, 128, 256, 512], numClasses: Int = 1000) {
            self.name = name; self.block = block; self.layers = layers; self.widths = widths; self.numClasses = numClasses
        }

        public static func resnet18(numClasses: Int = 1000) -> Config { .init(name: "resnet18", block: .basic, layers: [2, 2, 2, 2], numClasses: numClasses) }
        public static func resnet34(numClasses: Int = 1000) -> Config { .init(name: "resnet34", block: .basic, layers: [3, 4, 6, 3], numClasses: numClasses) }
        public static func resnet50(numClasses: Int = 1000) -> Config { .init(name: "resnet50", block: .bottleneck, layers: [3, 4, 6, 3], numClasses: numClasses) }

        /// Output channels per block: resnet.py `expansion`.
        public var expansion: Int { block == .basic ? 1 : 4 }
    }

    public let config: Config
    /// `conv1` + `bn1` (+ ReLU).
    let stem: ConvBatchNorm
    /// `layer1` ... `layer4`; each a list of blocks keyed "0", "1", ...
    public let layers: [ModuleList<ResNetBlock>]
    public var classifier: Linear

    public init(_ config: Config, seed: UInt64 = 0) throws {
        guard config.layers.count == 4, config.widths.count == 4, config.layers.allSatisfy({ $0 >= 1 }),
              config.widths.allSatisfy({ $0 >= 1 }), config.numClasses >= 1 else {
            throw ModelError.invalidConfig("\(config.name): ResNet needs 4 stages with >= 1 block and width each, got layers \(config.layers), widths \(config.widths)")
        }
        self.config = config
        var g = SeededGenerator(seed: seed)
        var inplanes = config.widths[0]
        stem = ConvBatchNorm(Conv2d(3, inplanes, kernel: 7, stride: 2, padding: 3, bias: false, generator: &g),
                             BatchNorm2d(inplanes), .relu, keys: ("conv1", "bn1"))
        var layers: [ModuleList<ResNetBlock>] = []
        for (stage, (planes, count)) in zip(config.widths, config.layers).enumerated() {
            // resnet.py `_make_layer`: the first block strides (except in layer1) and projects the shortcut.
            let stride = stage == 0 ? 1 : 2
            var blocks = [ResNetBlock(config.block, inplanes: inplanes, planes: planes, stride: stride, generator: &g)]
            inplanes = planes * config.expansion
            for _ in 1..<count { blocks.append(ResNetBlock(config.block, inplanes: inplanes, planes: planes, stride: 1, generator: &g)) }
            layers.append(ModuleList(blocks))
        }
        self.layers = layers
        classifier = Linear(inplanes, config.numClasses, generator: &g)
    }

    public var architecture: String { config.name }
    public var classifierKey: String { "fc" }
    public var featureSize: Int { config.widths[3] * config.expansion }
    public var preprocessing: Preprocessing { .imageNet() }

    public override var keyedChildren: [(String, Module)] {
        stem.keyedChildren + layers.enumerated().map { ("layer\($0.offset + 1)", $0.element) } + [("fc", classifier)]
    }

    /// `stem` (after the max-pool), every block (`layer2.1`), every stage
    /// (`layer2`, the same tensor as its last block), `penultimate`, `logits`.
    public var cutPoints: [String] {
        var cuts = ["stem"]
        for (i, layer) in layers.enumerated() {
            cuts += (0..<layer.count).map { "layer\(i + 1).\($0)" } + ["layer\(i + 1)"]
        }
        return cuts + ["penultimate", "logits"]
    }

    /// The stem (conv1 + bn1), then layer1 ... layer4.
    public var stages: [Module] { [stem] + layers }

    public func forward(_ x: Tensor, upTo cut: String?, training: Bool) throws -> Tensor {
        try checkCut(cut)
        var h = try stem.forward(x, training: training)
        h = try h.maxPool2d(kernel: 3, stride: 2, padding: 1)
        if cut == "stem" { return h }
        // Each block's input is this loop's own intermediate: nothing else reads it. In int8 it may be u8 codes
        // between blocks (ResNetInt8Chain.swift); a cut point and the pooling read fp32.
        let blocks = layers.enumerated().flatMap { i, layer in layer.items.enumerated().map { (stage: i, index: $0.offset, block: $0.element) } }
        var carried = Int8BlockTensor.fp32(h)
        for (k, b) in blocks.enumerated() {
            let cutHere = cut == "layer\(b.stage + 1).\(b.index)" || (cut == "layer\(b.stage + 1)" && b.index == layers[b.stage].count - 1)
            let next = cutHere || k == blocks.count - 1 ? nil : blocks[k + 1].block.chainInput(training: training, probe: h)
            carried = try b.block.forward(carried, next: next, training: training)
            if cutHere { return try carried.fp32() }
        }
        h = try carried.fp32()
        h = try h.globalAvgPool2d()
        if cut == "penultimate" { return h }
        return try classifier.forward(h, training: training)
    }
}

/// resnet.py `BasicBlock` (3x3, 3x3) or `Bottleneck` (1x1, 3x3 carrying the
/// stride, 1x1 to 4x planes), with an optional projection shortcut
/// `downsample` (1x1 conv + BN); relu(residual + shortcut) at the end.
public final class ResNetBlock: Module, UnaryLayer, @unchecked Sendable {  // unchecked: as Module
    /// `conv1` + `bn1`, `conv2` + `bn2` (, `conv3` + `bn3`); the last one's ReLU follows the residual add.
    let path: [ConvBatchNorm]
    /// `downsample`: its "0" (1x1 conv) and "1" (BN).
    let shortcut: ConvBatchNorm?

    init(_ kind: ResNet.Config.Block, inplanes: Int, planes: Int, stride: Int, generator g: inout SeededGenerator) {
        let output: Int, convs: [Conv2d]
        switch kind {
        case .basic:
            output = planes
            convs = [Conv2d(inplanes, planes, kernel: 3, stride: stride, padding: 1, bias: false, generator: &g),
                     Conv2d(planes, planes, kernel: 3, padding: 1, bias: false, generator: &g)]
        case .bottleneck:
            output = planes * 4
            convs = [Conv2d(inplanes, planes, kernel: 1, bias: false, generator: &g),
                     Conv2d(planes, planes, kernel: 3, stride: stride, padding: 1, bias: false, generator: &g),
                     Conv2d(planes, output, kernel: 1, bias: false, generator: &g)]
        }
        path = convs.enumerated().map { i, conv in
            ConvBatchNorm(conv, BatchNorm2d(conv.outChannels), i == convs.count - 1 ? nil : .relu, keys: ("conv\(i + 1)", "bn\(i + 1)"))
        }
        shortcut = stride != 1 || inplanes != output
            ? ConvBatchNorm(Conv2d(inplanes, output, kernel: 1, stride: stride, bias: false, generator: &g), BatchNorm2d(output), nil)
            : nil
    }

    public override var keyedChildren: [(String, Module)] {
        path.flatMap(\.keyedChildren) + (shortcut.map { [("downsample", $0)] } ?? [])
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try forward(x, training: training, consumingInput: false)
    }

    /// The path's units as links of a chain (int8 or bf16, made by `link`) on an NHWC input of `shape`, the last one
    /// with the block's ReLU (it follows the residual sum): the links, their folded weights (the caller keeps them
    /// alive while the chain runs) and the output shape; nil when a unit cannot be a link.
    func chainLinks<Link: ConvolutionChainLink>(
        _ shape: [Int],
        link: (ConvBatchNorm, _ batch: Int, _ height: Int, _ width: Int, _ channels: Int, Activation?) throws
            -> (link: Link, folded: (weight: Tensor, bias: Tensor))?
    ) throws -> (links: [Link], folded: [(weight: Tensor, bias: Tensor)], outShape: [Int])? {
        let n = shape[0]
        var (h, w, c) = (shape[1], shape[2], shape[3])
        var folded: [(weight: Tensor, bias: Tensor)] = [], links: [Link] = []
        for (i, unit) in path.enumerated() {
            let activation = i == path.count - 1 ? Activation.relu : unit.activation
            guard let l = try link(unit, n, h, w, c, activation) else { return nil }
            folded.append(l.folded)
            links.append(l.link)
            (h, w, c) = (l.link.geometry.outHeight, l.link.geometry.outWidth, l.link.geometry.outChannels)
        }
        return (links, folded, [n, h, w, c])
    }

    /// relu(path(x) + shortcut(x)); at inference the add and the ReLU are post-ops
    /// of the last conv (in int8 and bf16 the whole block is one chain, ResNetInt8Chain.swift, ResNetBF16Chain.swift).
    /// `consumingInput`: nobody reads `x` afterwards, so an identity shortcut's
    /// buffer can take the output in place.
    func forward(_ x: Tensor, training: Bool, consumingInput: Bool) throws -> Tensor {
        if let y = try int8Forward(x, training: training, consumingInput: consumingInput) { return y }
        if let y = try bf16Forward(x, training: training, consumingInput: consumingInput) { return y }
        var h = x
        for unit in path.dropLast() { h = try unit.forward(h, training: training) }
        if let shortcut {
            // The projected shortcut is this call's own fresh tensor.
            let identity = try shortcut.forward(x, training: training)
            return try path[path.count - 1].forward(h, adding: identity, then: .relu, training: training, consumingResidual: true)
        }
        return try path[path.count - 1].forward(h, adding: x, then: .relu, training: training, consumingResidual: consumingInput)
    }
}
