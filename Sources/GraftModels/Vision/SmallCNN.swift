import GraftData
import GraftNN
import GraftTensor

/// The from-scratch baseline for small images (28x28 Fashion-MNIST, 8x8
/// digits): three conv-BN-ReLU stages and a linear classifier, about 0.1M
/// parameters. Training EfficientNet's 4.7M parameters from random weights
/// on a few hundred images would only measure overfitting at 50x the cost;
/// a network sized to the data is the honest baseline transfer must beat.
public final class SmallCNN: Module, ImageBackbone, @unchecked Sendable {  // unchecked: as Module
    /// `conv1` + `bn1`, `conv2` + `bn2`, `conv3` + `bn3`, each followed by a ReLU.
    let blocks: [ConvBatchNorm]
    public var classifier: Linear
    let inputSize: Int

    public init(inputSize: Int = 28, classes: Int = 10, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed)
        var blocks: [ConvBatchNorm] = []
        for (i, (input, output)) in [(3, 32), (32, 64), (64, 128)].enumerated() {
            blocks.append(ConvBatchNorm(Conv2d(input, output, kernel: 3, padding: 1, bias: false, generator: &g),
                                        BatchNorm2d(output), .relu, keys: ("conv\(i + 1)", "bn\(i + 1)")))
        }
        self.blocks = blocks
        classifier = Linear(128, classes, generator: &g)
        self.inputSize = inputSize
    }

    public var architecture: String { "small-cnn" }
    /// Whole image stretched to the input size, pixels scaled to [-1, 1].
    public var preprocessing: Preprocessing {
        Preprocessing(inputSize: inputSize, crop: .stretch, normalization: .affine(subtract: 127.5, divide: 127.5))
    }
    public var featureSize: Int { 128 }
    public var classifierKey: String { "fc" }
    public var cutPoints: [String] { ["conv1", "conv2", "conv3", "penultimate", "logits"] }
    public var stages: [Module] { blocks }

    public override var keyedChildren: [(String, Module)] {
        blocks.flatMap(\.keyedChildren) + [("fc", classifier)]
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
