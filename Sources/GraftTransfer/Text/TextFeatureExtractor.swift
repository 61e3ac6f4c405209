import GraftData
import GraftTensor

/// Sentence features: pooled BERT states at the last layer (`pooled`) or
/// at `layerN` (each encoder layer's hidden states, pooled over the mask).
public final class TextFeatureExtractor: FeatureExtractor {
    public let embedder: SentenceEmbedder
    public let layer: String
    public let source: FeatureSource
    public var preprocessing: Preprocessing? { nil }
    private let layerIndex: Int?

    public static func cutPoints(layers: Int) -> [String] { (0...layers).map { "layer\($0)" } + ["pooled"] }

    public init(embedder: SentenceEmbedder, layer: String = "pooled") throws {
        self.embedder = embedder
        self.layer = layer
        let cuts = Self.cutPoints(layers: embedder.bert.config.numHiddenLayers)
        guard cuts.contains(layer) else { throw TransferError.unsupported("\(embedder.name) has no cut point '\(layer)'; available: \(cuts.joined(separator: ", "))") }
        layerIndex = layer == "pooled" ? nil : Int(layer.dropFirst(5))
        source = FeatureSource(model: embedder.name, layer: layer, pool: .avg, dimension: embedder.dimension)
    }

    public func features(_ batch: Batch) throws -> [Float] {
        try embedder.embed(batch.texts, batchSize: max(batch.count, 1), layer: layerIndex).values
    }
}
