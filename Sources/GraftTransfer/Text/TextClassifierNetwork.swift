import GraftData
import GraftModels
import GraftNN
import GraftTensor

/// BERT with a linear head on mean-pooled states, for fine-tuning the last
/// K encoder layers (the embeddings and earlier layers stay frozen).
public final class TextClassifierNetwork: ClassifierNetwork {
    public let embedder: SentenceEmbedder
    public let head: Linear
    private let container: Container
    public var module: Module { container }
    public var preprocessing: Preprocessing? { nil }

    final class Container: Module, @unchecked Sendable {
        let bert: BERT, head: Linear
        init(_ b: BERT, _ h: Linear) { bert = b; head = h }
        override var keyedChildren: [(String, Module)] { [("bert", bert), ("head", head)] }
    }

    public init(embedder: SentenceEmbedder, classes: Int, unfreezeLayers k: Int, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed &+ 0x7E47)
        self.embedder = embedder
        head = Linear(embedder.dimension, classes, generator: &g)
        container = Container(embedder.bert, head)
        embedder.bert.freeze()
        for layer in embedder.bert.layers.items.suffix(k) { layer.unfreeze() }
    }

    public func logits(_ batch: Batch, training: Bool) throws -> Tensor {
        let (h, mask) = try embedder.states(batch.texts, training: training)
        let pooled = try poolTokens(h, mask: mask, mode: .mean, normalize: false)
        return try head.forward(pooled, training: training)
    }
}
