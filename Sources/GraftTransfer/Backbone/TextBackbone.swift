import GraftData
import GraftModels
import GraftNN
import GraftTensor

/// A sentence encoder (BERT family, sentence-transformers pooling) as a `Backbone`.
/// Cut points: `layer0` (embeddings) ... `layerN`, each pooled over the mask,
/// and `pooled` (the model's own pooling and normalisation).
public final class TextBackbone: Backbone {
    public let spec: BackboneSpec
    public let embedder: SentenceEmbedder

    public init(_ embedder: SentenceEmbedder, spec: BackboneSpec) {
        self.embedder = embedder
        self.spec = spec
    }

    public var preprocessing: Preprocessing? { nil }
    public var cutPoints: [String] { (0...embedder.bert.config.numHiddenLayers).map { "layer\($0)" } + ["pooled"] }
    public var headCut: String { "pooled" }
    public var headDimension: Int { embedder.dimension }
    public var blockCount: Int { embedder.bert.layers.count }
    /// BERT's linears run int8 with per-batch input scales (`Tensor.fusedLinear`): no calibration.
    public var quantizesDynamically: Bool { true }

    public func features(_ batch: Batch, at cut: String, pool: FeaturePooling, paddedTo rows: Int) throws -> Tensor {
        try embedder.embed(batch.texts, batchSize: max(batch.count, 1), layer: layerIndex(cut))
    }

    public func featureDimension(at cut: String, pool: FeaturePooling) throws -> Int {
        _ = try layerIndex(cut)
        return embedder.dimension
    }

    /// nil for `pooled`, N for `layerN`.
    func layerIndex(_ cut: String) throws -> Int? {
        try requireCut(cut)
        return cut == "pooled" ? nil : Int(cut.dropFirst(5))
    }

    /// Fine-tuning trains the last `unfreeze` encoder layers (embeddings stay frozen); a random-init
    /// encoder (from scratch) trains every weight.
    public func network(outputs: Int, unfreeze: Int?, seed: UInt64) throws -> TaskNetwork {
        let network = TextTaskNetwork(self, outputs: outputs, unfreezeLayers: unfreeze ?? blockCount, seed: seed)
        if !spec.pretrained { embedder.bert.unfreeze() }
        return network
    }

    /// Measured on Rotten Tomatoes (the Strategies article).
    public func defaultOptions(for strategy: Strategy) -> TrainingOptions {
        var o = TrainingOptions()
        if case .fromScratch = strategy {
            o.epochs = 4; o.optimizer = .adamw; o.learningRate = 1e-3; o.patience = 5; o.augment = false
        } else {
            o.epochs = 3; o.optimizer = .adamw; o.learningRate = 2e-3; o.trunkLearningRateScale = 0.2
            o.batchSize = 16; o.patience = 2; o.weightDecay = 0.01
        }
        return o
    }

    /// Re-draws every BERT weight as its initialiser does (N(0, 0.02); layer norms 1 and 0).
    static func randomize(_ module: Module, seed: UInt64) throws {
        var g = SeededGenerator(seed: seed &+ 0x5C)
        for (key, p) in module.namedParameters() {
            let fresh: Tensor = key.hasSuffix("LayerNorm.weight") ? .ones(p.shape)
                : key.hasSuffix("bias") ? .zeros(p.shape)
                : .randn(p.shape, std: 0.02, generator: &g)
            try p.assign(fresh)
        }
    }
}

/// BERT with a linear head on its sentence embedding; the state dict is `bert.*` + `head.*`.
public final class TextTaskNetwork: LinearHeadNetwork {
    /// What the head reads.
    public enum HeadInput: String, Codable, Sendable {
        /// The encoder's own sentence embedding (its pooling and normalisation: the `pooled` cut every
        /// feature head reads), so LP-FT's probe is the logistic-regression head of feature extraction.
        case pooled
        /// The unnormalised mean of the last states: networks in bundles written before 0.11
        /// (`BundleManifest.headInput` absent).
        case meanStates
    }

    public let textBackbone: TextBackbone
    public let head: Linear
    public var headInputKind: HeadInput = .pooled
    private let container: Container
    public var backbone: any Backbone { textBackbone }
    public var module: Module { container }
    public var embedder: SentenceEmbedder { textBackbone.embedder }

    final class Container: Module, @unchecked Sendable {  // Module subclasses restate it (Module is @unchecked)
        let bert: BERT, head: Linear
        init(_ b: BERT, _ h: Linear) { bert = b; head = h }
        override var keyedChildren: [(String, Module)] { [("bert", bert), ("head", head)] }
    }

    init(_ backbone: TextBackbone, outputs: Int, unfreezeLayers k: Int, seed: UInt64) {
        var g = SeededGenerator(seed: seed &+ 0x7E47)
        textBackbone = backbone
        head = Linear(backbone.embedder.dimension, outputs, generator: &g)
        container = Container(backbone.embedder.bert, head)
        backbone.embedder.bert.freeze()
        for layer in backbone.embedder.bert.layers.items.suffix(k) { layer.unfreeze() }
    }

    public func headInput(_ batch: Batch, training: Bool) throws -> Tensor {
        let (h, mask) = try embedder.states(batch.texts, training: training)
        switch headInputKind {
        case .pooled: return try poolTokens(h, mask: mask, mode: embedder.pooling, normalize: embedder.normalize)
        case .meanStates: return try poolTokens(h, mask: mask, mode: .mean, normalize: false)
        }
    }
}
