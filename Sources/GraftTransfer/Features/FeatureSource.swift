/// Which network, cut point and pooling produced a set of features. Stores,
/// heads and bundles carry it so features from one model are never scored
/// with a head fitted on another's.
public struct FeatureSource: Codable, Sendable, Equatable, CustomStringConvertible {
    public var model: String
    public var layer: String
    public var pool: FeaturePooling
    public var dimension: Int

    public init(model: String, layer: String, pool: FeaturePooling, dimension: Int) {
        self.model = model; self.layer = layer; self.pool = pool; self.dimension = dimension
    }

    public var description: String { "\(model) @ \(layer) (\(pool.rawValue), \(dimension)-d)" }
}

/// How a spatial map [N, H, W, C] becomes one vector per example.
public enum FeaturePooling: String, Codable, Sendable, CaseIterable {
    case avg, max
    /// Every value, in NHWC order (H, W, C): VGG's 7x7x512 = 25,088.
    case flatten
}
