import GraftData
import GraftModels
import GraftNN
import GraftTensor

/// A CNN of the model zoo (EfficientNet-Lite, ResNet, MobileNetV2, VGG, the small CNN) as a `Backbone`.
public final class CNNBackbone: Backbone {
    public let spec: BackboneSpec
    public let cnn: any ImageBackbone

    public init(_ cnn: any ImageBackbone, spec: BackboneSpec) {
        self.cnn = cnn
        self.spec = spec
    }

    public var preprocessing: Preprocessing? { cnn.preprocessing }
    public var cutPoints: [String] { cnn.cutPoints }
    public var headCut: String { "penultimate" }
    public var headDimension: Int { cnn.featureSize }
    public var blockCount: Int { cnn.stages.count }
    public var isInt8Calibrated: Bool { Int8Quantization.isCalibrated(cnn) }

    /// A short batch runs padded with zero images and its extra rows are dropped: one input shape end to
    /// end means no new oneDNN primitives and no second set of activation buffers for the tail, so peak
    /// memory does not depend on how the data set's size divides by the batch size (measured: a last
    /// batch of 16 added 210 MB), and every row comes from the same kernels.
    public func features(_ batch: Batch, at cut: String, pool: FeaturePooling, paddedTo rows: Int) throws -> Tensor {
        let n = max(rows, batch.count)
        var pixels = batch.pixels
        if n > batch.count { pixels += [Float](repeating: 0, count: (n - batch.count) * batch.height * batch.width * 3) }
        let x = try Tensor(shape: [n, batch.height, batch.width, 3], values: pixels)
        let rows = try withNoGrad { try Self.pooled(cnn.forward(x, upTo: cut, training: false), pool) }
        return n == batch.count ? rows : try rows.slice(axis: 0, 0..<batch.count)
    }

    public func featureDimension(at cut: String, pool: FeaturePooling) throws -> Int {
        try requireCut(cut)
        // One probe image tells the width of this cut point.
        let size = cnn.preprocessing.inputSize
        return try withNoGrad { try Self.pooled(cnn.forward(Tensor.zeros([1, size, size, 3]), upTo: cut, training: false), pool).shape[1] }
    }

    /// [N, H, W, C] -> [N, C] (avg, max) or [N, H*W*C] (flatten); [N, ...] flattens.
    static func pooled(_ t: Tensor, _ pool: FeaturePooling) throws -> Tensor {
        guard t.rank == 4 else { return try t.flattened(fromAxis: 1) }
        switch pool {
        case .avg: return try t.globalAvgPool2d()
        case .max: return try t.reshaped([t.shape[0], t.shape[1] * t.shape[2], t.shape[3]]).max(axis: 1)
        case .flatten: return try t.flattened(fromAxis: 1)
        }
    }

    public func network(outputs: Int, unfreeze: Int?, seed: UInt64) throws -> TaskNetwork {
        let network = CNNTaskNetwork(self, outputs: outputs, seed: seed)
        if let unfreeze { cnn.freezeAllButLast(unfreeze) }
        return network
    }

    /// Measured on Fashion-MNIST and photos (docs/RESULTS.md, the Strategies article).
    public func defaultOptions(for strategy: Strategy) -> TrainingOptions { Self.measuredDefaults(for: strategy) }

    static func measuredDefaults(for strategy: Strategy) -> TrainingOptions {
        var o = TrainingOptions()
        if case .fromScratch = strategy {
            o.epochs = 15; o.learningRate = 0.05; o.patience = 5; o.augment = false
        } else {
            o.epochs = 4; o.optimizer = .adamw; o.learningRate = 5e-4; o.trunkLearningRateScale = 0.2
            o.batchSize = 16; o.patience = 2; o.weightDecay = 0.01
        }
        return o
    }
}

/// A CNN whose classifier is replaced by a new head of `outputs` outputs; the
/// state dict keeps the architecture's own keys (`_fc.*`, `fc.*`, ...).
public final class CNNTaskNetwork: LinearHeadNetwork {
    public let cnnBackbone: CNNBackbone
    public var backbone: any Backbone { cnnBackbone }
    public var module: Module { cnnBackbone.cnn }
    public var head: Linear { cnnBackbone.cnn.classifier }

    init(_ backbone: CNNBackbone, outputs: Int, seed: UInt64) {
        var g = SeededGenerator(seed: seed &+ 0x4EAD)
        backbone.cnn.classifier = Linear(backbone.cnn.featureSize, outputs, generator: &g)
        cnnBackbone = backbone
    }

    func input(_ batch: Batch) throws -> Tensor {
        try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels)
    }

    public func headInput(_ batch: Batch, training: Bool) throws -> Tensor {
        let h = try cnnBackbone.cnn.forward(input(batch), upTo: "penultimate", training: training)
        return h.rank == 4 ? try h.globalAvgPool2d() : try h.flattened(fromAxis: 1)
    }

    public func outputs(_ batch: Batch, training: Bool) throws -> Tensor {
        try cnnBackbone.cnn.forward(input(batch), upTo: nil, training: training)
    }
}
