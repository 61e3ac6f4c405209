import GraftData
import GraftNN
import GraftTensor

/// VGG as in torchvision (`torchvision/models/vgg.py`): 3x3 conv blocks
/// (optionally with batch norm) each closed by a 2x2 max-pool, adaptive
/// average pooling to 7x7, then `classifier.0` / `.3` / `.6` (4096, 4096,
/// classes) with ReLU and dropout between. Keys match torchvision's:
/// `features.N` is the conv (or BN) at index N of its `nn.Sequential`.
///
/// torchvision flattens the pooled map in C, H, W order, which is what the
/// columns of `classifier.0.weight` expect. Graft's maps are NHWC, so the
/// forward permutes the small 7x7 map to NCHW before flattening (a copy of
/// N x 25088 floats, negligible next to the convs); the weights stay exactly
/// as in the file, so saving gives back a torchvision state dict.
public final class VGG: Module, ImageBackbone, @unchecked Sendable {  // unchecked: as Module
    public struct Config: Sendable, Equatable {
        public enum Layer: Sendable, Equatable { case conv(Int), maxPool }
        public var name: String
        /// vgg.py `cfgs`: conv widths and "M" (max-pool).
        public var layers: [Layer]
        public var batchNorm: Bool
        /// Width of `classifier.0` and `classifier.3`.
        public var hidden: Int = 4096
        public var numClasses: Int = 1000
        public var dropout: Float = 0.5

        public init(name: String, layers: [Layer], batchNorm: Bool, hidden: Int = 4096, numClasses: Int = 1000, dropout: Float = 0.5) {
            self.name = name; self.layers = layers; self.batchNorm = batchNorm
            self.hidden = hidden; self.numClasses = numClasses; self.dropout = dropout
        }

        /// vgg.py `cfgs` "A", "B", "D", "E" by depth.
        public static func layers(depth: Int) throws -> [Layer] {
            let table: [Int: [Int]] = [
                11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
                13: [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
                16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
                19: [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
            ]
            guard let cfg = table[depth] else { throw ModelError.invalidConfig("VGG\(depth) does not exist (11, 13, 16, 19)") }
            return cfg.map { $0 == 0 ? .maxPool : .conv($0) }
        }

        public static func vgg(depth: Int, batchNorm: Bool = false, numClasses: Int = 1000) throws -> Config {
            .init(name: "vgg\(depth)" + (batchNorm ? "_bn" : ""), layers: try layers(depth: depth), batchNorm: batchNorm, numClasses: numClasses)
        }

        public static func vgg16(numClasses: Int = 1000) -> Config {
            // Depth 16 is in the table; the fallback is unreachable.
            (try? vgg(depth: 16, numClasses: numClasses)) ?? .init(name: "vgg16", layers: [], batchNorm: false)
        }
    }

    /// A 3x3 conv with its optional batch norm, and the ReLU after it.
    struct ConvUnit {
        let conv: Conv2d
        let bn: BatchNorm2d?
        let fused: ConvBatchNorm?

        func forward(_ x: Tensor, training: Bool) throws -> Tensor {
            if let fused { return try fused.forward(x, training: training) }
            return try conv.forward(x, training: training)  // ReLU as the conv's post-op
        }
    }

    public let config: Config
    /// Conv blocks, each closed by a max-pool (a trailing block may have none).
    let blocks: [[ConvUnit]]
    private let blockEndsWithPool: [Bool]
    /// `features.N` keys in torchvision's numbering.
    private let featureKeys: [(String, Module)]
    let fc1: Linear
    let fc2: Linear
    public var classifier: Linear
    private let dropout1: Dropout, dropout2: Dropout

    public init(_ config: Config, seed: UInt64 = 0) throws {
        guard config.layers.contains(where: { if case .conv = $0 { return true } else { return false } }),
              config.hidden >= 1, config.numClasses >= 1 else {
            throw ModelError.invalidConfig("\(config.name): needs at least one conv, hidden and classes >= 1")
        }
        self.config = config
        var g = SeededGenerator(seed: seed)
        var channels = 3, index = 0
        var blocks: [[ConvUnit]] = [], ends: [Bool] = [], current: [ConvUnit] = [], keys: [(String, Module)] = []
        for layer in config.layers {
            switch layer {
            case .maxPool:
                blocks.append(current); ends.append(true); current = []
                index += 1
            case .conv(let width):
                guard width >= 1 else { throw ModelError.invalidConfig("\(config.name): conv width \(width)") }
                let conv = Conv2d(channels, width, kernel: 3, padding: 1, generator: &g)
                keys.append(("\(index)", conv))
                if config.batchNorm {
                    let bn = BatchNorm2d(width)
                    keys.append(("\(index + 1)", bn))
                    current.append(ConvUnit(conv: conv, bn: bn, fused: ConvBatchNorm(conv, bn, .relu)))
                    index += 3
                } else {
                    conv.activation = .relu
                    current.append(ConvUnit(conv: conv, bn: nil, fused: nil))
                    index += 2
                }
                channels = width
            }
        }
        if !current.isEmpty { blocks.append(current); ends.append(false) }
        self.blocks = blocks
        blockEndsWithPool = ends
        featureKeys = keys
        fc1 = Linear(channels * 7 * 7, config.hidden, generator: &g)
        fc2 = Linear(config.hidden, config.hidden, generator: &g)
        classifier = Linear(config.hidden, config.numClasses, generator: &g)
        dropout1 = Dropout(config.dropout, seed: seed &+ 1)
        dropout2 = Dropout(config.dropout, seed: seed &+ 2)
    }

    public var architecture: String { config.name }
    public var classifierKey: String { "classifier.6" }
    public var featureSize: Int { config.hidden }
    public var preprocessing: Preprocessing { .imageNet() }

    public override var keyedChildren: [(String, Module)] {
        [("features", KeyedModules(featureKeys)), ("classifier", KeyedModules([("0", fc1), ("3", fc2), ("6", classifier)]))]
    }

    /// `block1` ... `block5` (each after its max-pool), `features` (the last
    /// block: 7x7x512 at 224x224), `pool` (adaptive average to 7x7, NHWC),
    /// `fc1` (ReLU of classifier.0), `penultimate` (ReLU of classifier.3,
    /// 4096-d), `logits`.
    public var cutPoints: [String] {
        blocks.indices.map { "block\($0 + 1)" } + ["features", "pool", "fc1", "penultimate", "logits"]
    }

    /// The conv blocks, then `classifier.0` and `classifier.3` (the head).
    public var stages: [Module] {
        blocks.map { block in SubModules(block.flatMap { unit in [unit.conv] + (unit.bn.map { [$0] } ?? []) }) } + [fc1, fc2]
    }

    public func forward(_ x: Tensor, upTo cut: String?, training: Bool) throws -> Tensor {
        try checkCut(cut)
        var h = x
        for (b, block) in blocks.enumerated() {
            for unit in block { h = try unit.forward(h, training: training) }
            if blockEndsWithPool[b] { h = try h.maxPool2d(kernel: 2, stride: 2) }
            if cut == "block\(b + 1)" { return h }
        }
        if cut == "features" { return h }
        // At 224x224 the map is already 7x7 and the pool is the identity.
        if h.shape[1] != 7 || h.shape[2] != 7 { h = try h.adaptiveAvgPool2d(outputSize: (7, 7)) }
        if cut == "pool" { return h }
        h = try h.permuted([0, 3, 1, 2]).flattened()
        h = try fc1.forward(h, training: training).relu()
        if cut == "fc1" { return h }
        h = try dropout1.forward(h, training: training)
        h = try fc2.forward(h, training: training).relu()
        if cut == "penultimate" { return h }
        h = try dropout2.forward(h, training: training)
        return try classifier.forward(h, training: training)
    }
}

/// Children under explicit keys (torchvision's `nn.Sequential` indices skip
/// the stateless ReLU, dropout and pooling layers).
private final class KeyedModules: Module, @unchecked Sendable {  // unchecked: as Module
    let entries: [(String, Module)]
    init(_ entries: [(String, Module)]) { self.entries = entries }
    override var keyedChildren: [(String, Module)] { entries }
}
