import GraftData
import GraftNN
import GraftTensor

/// The from-scratch baseline for small images (28x28 Fashion-MNIST, 8x8
/// digits): three conv-BN-ReLU stages and a linear classifier, about 0.1M
/// parameters. Training EfficientNet's 4.7M parameters from random weights
/// on a few hundred images would only measure overfitting at 50x the cost;
/// a network sized to the data is the honest baseline transfer must beat.
public final class SmallCNN: Module, ImageBackbone, @unchecked Sendable {  // unchecked: as Module
    let conv1: Conv2d, bn1: BatchNorm2d
    let conv2: Conv2d, bn2: BatchNorm2d
    let conv3: Conv2d, bn3: BatchNorm2d
    public var classifier: Linear
    let inputSize: Int
    private let blocks: [ConvBatchNorm]

    public init(inputSize: Int = 28, classes: Int = 10, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed)
        conv1 = Conv2d(3, 32, kernel: 3, padding: 1, bias: false, generator: &g); bn1 = BatchNorm2d(32)
        conv2 = Conv2d(32, 64, kernel: 3, padding: 1, bias: false, generator: &g); bn2 = BatchNorm2d(64)
        conv3 = Conv2d(64, 128, kernel: 3, padding: 1, bias: false, generator: &g); bn3 = BatchNorm2d(128)
        classifier = Linear(128, classes, generator: &g)
        self.inputSize = inputSize
        blocks = [ConvBatchNorm(conv1, bn1, .relu), ConvBatchNorm(conv2, bn2, .relu), ConvBatchNorm(conv3, bn3, .relu)]
    }

    public var architecture: String { "small-cnn" }
    /// Whole image stretched to the input size, pixels scaled to [-1, 1].
    public var preprocessing: Preprocessing {
        Preprocessing(inputSize: inputSize, crop: .stretch, normalization: .affine(subtract: 127.5, divide: 127.5))
    }
    public var featureSize: Int { 128 }
    public var classifierKey: String { "fc" }
    public var cutPoints: [String] { ["conv1", "conv2", "conv3", "penultimate", "logits"] }
    public var stages: [Module] { [SubModules([conv1, bn1]), SubModules([conv2, bn2]), SubModules([conv3, bn3])] }

    public override var keyedChildren: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3), ("fc", classifier)]
    }

    public func forward(_ x: Tensor, upTo cut: String?, training: Bool) throws -> Tensor {
        try checkCut(cut)
        var h = x
        for (i, block) in blocks.enumerated() {
            h = try block.forward(h, training: training)
            if cut == "conv\(i + 1)" { return h }
            if i < 2 && h.shape[1] >= 2 { h = try h.maxPool2d(kernel: 2) }
        }
        h = try h.globalAvgPool2d()
        if cut == "penultimate" { return h }
        return try classifier.forward(h, training: training)
    }
}
