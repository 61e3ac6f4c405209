import GraftData
import GraftModels
import GraftNN
import GraftTensor

/// A network trained for classification: logits from a batch of raw examples.
public protocol ClassifierNetwork: AnyObject {
    var module: Module { get }
    /// The new head (trained at the full learning rate).
    var head: Linear { get }
    /// The pipeline that prepares images (nil for text).
    var preprocessing: Preprocessing? { get }
    func logits(_ batch: Batch, training: Bool) throws -> Tensor
}

/// A CNN with a fresh classifier of `classes` outputs.
public final class ImageClassifierNetwork: ClassifierNetwork {
    public let backbone: any ImageBackbone
    public var module: Module { backbone }
    public var head: Linear { backbone.classifier }
    public var preprocessing: Preprocessing? { backbone.preprocessing }

    /// Replaces the backbone's classifier with a new one sized to `classes`.
    public init(backbone: any ImageBackbone, classes: Int, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed &+ 0x4EAD)
        backbone.classifier = Linear(backbone.featureSize, classes, generator: &g)
        self.backbone = backbone
    }

    public func logits(_ batch: Batch, training: Bool) throws -> Tensor {
        let x = try Tensor(shape: [batch.count, batch.height, batch.width, 3], values: batch.pixels)
        return try backbone.forward(x, upTo: nil, training: training)
    }
}
