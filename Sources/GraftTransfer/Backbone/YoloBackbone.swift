import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights

/// A Darknet YOLO detector (the zoo's `yolov3-tiny`) as a `Backbone`: the detection task's network.
///
/// - Input: the image stretched to a square of `spec.inputSize` (default the cfg's 416), pixels / 255;
///   a stretch keeps every box's coordinates relative to the image, so training targets need no mapping
///   (the anchors are scaled with the input, `DarknetConfig.withInput`).
/// - `network(outputs: C, ...)`: the heads' last 1x1 convolutions replaced by `3 * (5 + C)`-filter ones for
///   `C` classes (`DarknetNetwork.withNewHeads`), every other weight copied.
/// - Blocks: the convolutions that are not heads, in layer order; `unfreeze: K` trains the last K of them
///   (with their batch-norm statistics frozen, like the CNNs) besides the heads; nil trains everything.
/// - Features at any `layer{i}` cut, pooled (so feature extraction and embeddings work as for CNNs).
public final class YoloBackbone: Backbone {
    public let spec: BackboneSpec
    /// The pretrained (or, from scratch, random) network at the input size.
    public let darknet: DarknetNetwork

    /// The zoo detectors (architecture = cfg name).
    public static func isDetector(_ spec: BackboneSpec) -> Bool {
        spec.input == .image && ModelZoo.entries.contains { $0.kind == .detection && $0.architecture == spec.architecture }
    }

    /// Loads the zoo cfg of `spec.architecture` at `spec.inputSize`, with its pretrained weights when `spec.pretrained`
    /// and `weights` (a bundle's state dict replaces them anyway), else seeded random weights.
    public init(_ spec: BackboneSpec, seed: UInt64 = 0, weights: Bool = true) throws {
        let (entry, cfg, _) = try YoloDetector.zooFiles(architecture: spec.architecture)
        let original = try DarknetConfig.read(cfg)
        let side = spec.inputSize ?? original.input.width
        let config = side == original.input.width && side == original.input.height ? original : try original.withInput(width: side, height: side)
        darknet = DarknetNetwork(config: config, seed: seed)
        if spec.pretrained && weights {
            let file = spec.weights.map { URL(fileURLWithPath: $0) } ?? entry.url
            guard FileManager.default.fileExists(atPath: file.path) else { throw ModelError.weightsNotInstalled(model: entry.name, path: file.path) }
            try darknet.load(DarknetWeights.read(file, config: original))
        }
        self.spec = spec
    }

    public var inputSize: Int { darknet.config.input.width }
    public var preprocessing: Preprocessing? { Preprocessing(inputSize: inputSize, crop: .stretch, normalization: .unit) }
    public var cutPoints: [String] { darknet.cutPoints }

    /// Indices of the convolutions that feed `[yolo]` layers.
    var headConvolutions: [Int] { darknet.config.yoloLayers.map { $0 - 1 } }
    /// The convolutions that are not heads, in layer order (the trainable blocks).
    var trunkConvolutions: [Int] { darknet.units.keys.filter { !headConvolutions.contains($0) }.sorted() }

    /// The layer before the first head convolution (YOLOv3-tiny: layer 14, 512 channels at stride 32).
    public var headCut: String { "layer\((headConvolutions.first ?? darknet.config.layers.count) - 1)" }
    public var headDimension: Int {
        let i = (headConvolutions.first ?? darknet.config.layers.count) - 1
        return darknet.config.layers[max(0, i)].output.channels
    }
    public var blockCount: Int { trunkConvolutions.count }

    func tensor(_ batch: Batch, rows: Int) throws -> Tensor {
        var pixels = batch.pixels
        if rows > batch.count { pixels += [Float](repeating: 0, count: (rows - batch.count) * batch.height * batch.width * 3) }
        return try Tensor(shape: [rows, batch.height, batch.width, 3], values: pixels)
    }

    public func features(_ batch: Batch, at cut: String, pool: FeaturePooling, paddedTo rows: Int) throws -> Tensor {
        try requireCut(cut)
        let n = max(rows, batch.count)
        let x = try tensor(batch, rows: n)
        let out = try withNoGrad { try CNNBackbone.pooled(darknet.forward(x, upTo: cut, training: false), pool) }
        return n == batch.count ? out : try out.slice(axis: 0, 0..<batch.count)
    }

    public func featureDimension(at cut: String, pool: FeaturePooling) throws -> Int {
        try requireCut(cut)
        return try withNoGrad {
            try CNNBackbone.pooled(darknet.forward(Tensor.zeros([1, inputSize, inputSize, 3]), upTo: cut, training: false), pool).shape[1]
        }
    }

    /// New heads for `outputs` classes on this trunk.
    public func network(outputs: Int, unfreeze: Int?, seed: UInt64) throws -> TaskNetwork {
        let (network, heads) = try darknet.withNewHeads(classes: outputs, seed: seed &+ 0x4EAD)
        try Self.setPriorBiases(network, classes: outputs)
        if let unfreeze {
            network.freeze()
            for i in heads { network.units[i]!.unfreeze() }
            for i in trunkConvolutions.suffix(max(0, unfreeze)) {
                network.units[i]!.unfreeze()
                network.units[i]!.bn?.isFrozen = true   // statistics of the pretrained trunk stay (gamma and beta train)
            }
        } else {
            network.unfreeze()
        }
        return YoloTaskNetwork(self, network: network, heads: heads)
    }

    /// Ultralytics' `_initialize_biases` (YOLOv5 models/yolo.py) for the new heads: objectness starts at about
    /// 8 objects per image, log(8 / cells of the head's grid), and each class at log(0.6 / (C - 0.99)); with
    /// zero biases every one of the hundreds of cells would start at objectness 0.5, and the first epochs
    /// would only unlearn that.
    static func setPriorBiases(_ network: DarknetNetwork, classes: Int) throws {
        let layout = YoloLayout(network.config)
        for (layer, (head, grid)) in zip(network.config.yoloLayers, zip(layout.heads, layout.grids)) {
            guard let bias = network.units[layer - 1]?.conv.bias else { continue }
            var b = bias.values
            let entries = 5 + head.classes
            for a in 0..<head.mask.count {
                b[a * entries + 4] += Float(Foundation.log(8 / Double(grid.height * grid.width)))
                for c in 0..<head.classes { b[a * entries + 5 + c] += Float(Foundation.log(0.6 / (Double(classes) - 0.99))) }
            }
            try bias.assign(Tensor(shape: bias.shape, values: b))
        }
    }

    /// Measured on the default detection set (docs/DETECTION.md): AdamW with a warm-up; box-aware augmentation.
    public func defaultOptions(for strategy: Strategy) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = 30; o.batchSize = 8; o.optimizer = .adamw; o.learningRate = 1e-3; o.trunkLearningRateScale = 0.1
        o.weightDecay = 5e-4; o.patience = 10; o.labelSmoothing = 0; o.clipNorm = 10
        return o
    }
}

/// A YOLO network with new heads: outputs are the heads' raw maps flattened per item (`YoloLayout`).
public final class YoloTaskNetwork: TaskNetwork {
    public let yoloBackbone: YoloBackbone
    public let darknet: DarknetNetwork
    /// Layer indices of the new head convolutions.
    public let heads: [Int]

    init(_ backbone: YoloBackbone, network: DarknetNetwork, heads: [Int]) {
        yoloBackbone = backbone; darknet = network; self.heads = heads
    }

    public var backbone: any Backbone { yoloBackbone }
    public var module: Module { darknet }
    public var linearHead: Linear? { nil }
    public var headLayers: [Module] { heads.map { darknet.units[$0]! } }
    public var layout: YoloLayout { YoloLayout(darknet.config) }

    func input(_ batch: Batch) throws -> Tensor { try yoloBackbone.tensor(batch, rows: batch.count) }

    /// The trunk's features at the backbone's `headCut`, average-pooled (embeddings of a detection bundle).
    public func headInput(_ batch: Batch, training: Bool) throws -> Tensor {
        try darknet.forward(input(batch), upTo: yoloBackbone.headCut, training: training).globalAvgPool2d()
    }

    public func outputs(_ batch: Batch, training: Bool) throws -> Tensor {
        try layout.flatten(darknet.forward(input(batch), training: training))
    }
}
