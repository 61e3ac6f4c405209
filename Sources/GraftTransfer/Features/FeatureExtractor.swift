import GraftData
import GraftModels
import GraftTensor

/// Turns a batch of raw examples into feature rows at one cut point of a
/// backbone, pooled, under no-grad. Stores and feature bundles record its
/// `source` so features from one model are never scored with another's head.
public final class FeatureExtractor {
    public let backbone: any Backbone
    public let cut: String
    public let pool: FeaturePooling
    public let source: FeatureSource

    /// `cut`: a cut point of the backbone (its `headCut` by default). `precision`: what the backbone's
    /// convolutions and matmuls compute in (docs/PRECISION.md); refused here, with
    /// `KernelError.unsupportedPrecision`, when this CPU cannot (or, for int8, the backbone is not calibrated).
    public init(backbone: any Backbone, cut: String? = nil, pool: FeaturePooling = .avg, precision: Precision = .fp32) throws {
        let cut = cut ?? backbone.headCut
        try backbone.requireCut(cut)
        try backbone.requirePrecision(precision)
        self.backbone = backbone
        self.cut = cut
        self.pool = pool
        source = FeatureSource(model: backbone.spec.model, layer: cut, pool: pool,
                               dimension: try backbone.featureDimension(at: cut, pool: pool), precision: precision)
    }

    public var precision: Precision { source.precision }

    /// The pipeline that prepares images (nil for texts).
    public var preprocessing: Preprocessing? { backbone.preprocessing }

    /// `batch.count * source.dimension` values, row-major; a shorter batch may run padded to `rows`
    /// items so every forward has one shape.
    public func features(_ batch: Batch, paddedTo rows: Int = 0) throws -> [Float] {
        try withPrecision(precision) { try backbone.features(batch, at: cut, pool: pool, paddedTo: rows).values }
    }
}
