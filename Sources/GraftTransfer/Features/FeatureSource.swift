import GraftTensor

/// Which network, cut point and pooling produced a set of features. Stores,
/// heads and bundles carry it so features from one model are never scored
/// with a head fitted on another's.
/// `precision` is what the backbone computed in: a head fitted on bf16 features records it in its bundle.
public struct FeatureSource: Codable, Sendable, Equatable, CustomStringConvertible {
    public var model: String
    public var layer: String
    public var pool: FeaturePooling
    public var dimension: Int
    public var precision: Precision

    public init(model: String, layer: String, pool: FeaturePooling, dimension: Int, precision: Precision = .fp32) {
        self.model = model; self.layer = layer; self.pool = pool; self.dimension = dimension; self.precision = precision
    }

    public var description: String {
        "\(model) @ \(layer) (\(pool.rawValue), \(dimension)-d\(precision == .fp32 ? "" : ", \(precision)"))"
    }

    private enum Keys: String, CodingKey { case model, layer, pool, dimension, precision }

    /// Stores and bundles written before precisions existed have no `precision`: they are fp32.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        model = try c.decode(String.self, forKey: .model)
        layer = try c.decode(String.self, forKey: .layer)
        pool = try c.decode(FeaturePooling.self, forKey: .pool)
        dimension = try c.decode(Int.self, forKey: .dimension)
        precision = try c.decodeIfPresent(Precision.self, forKey: .precision) ?? .fp32
    }

    /// fp32 sources are written as before, so their files read the same in older versions.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(model, forKey: .model); try c.encode(layer, forKey: .layer)
        try c.encode(pool, forKey: .pool); try c.encode(dimension, forKey: .dimension)
        if precision != .fp32 { try c.encode(precision, forKey: .precision) }
    }
}

/// How a spatial map [N, H, W, C] becomes one vector per example.
public enum FeaturePooling: String, Codable, Sendable, CaseIterable {
    case avg, max
    /// Every value, in NHWC order (H, W, C): VGG's 7x7x512 = 25,088.
    case flatten
}
