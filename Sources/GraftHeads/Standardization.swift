/// Per-feature standardisation `(x - mean) / scale`, fitted on training rows and stored with a head
/// so prediction reapplies exactly the same transform.
///
/// Matches scikit-learn's `StandardScaler`: population variance (ddof 0), and a scale of 1 for
/// features whose variance is zero (or numerically so).
public struct Standardization: Codable, Sendable, Equatable {
    /// Mean of each feature over the training rows.
    public var mean: [Float]
    /// Standard deviation of each feature (1 where it is zero).
    public var scale: [Float]

    /// Uses given statistics; `mean` and `scale` must have equal length and positive scales.
    public init(mean: [Float], scale: [Float]) throws(HeadsError) {
        guard mean.count == scale.count else {
            throw .shapeMismatch(what: "Standardization scale", expected: [mean.count], got: [scale.count])
        }
        if let bad = scale.firstIndex(where: { !($0 > 0) || !$0.isFinite }) {
            throw .invalidOption(name: "Standardization.scale[\(bad)]", reason: "must be finite and > 0")
        }
        self.mean = mean
        self.scale = scale
    }

    /// Fits mean and scale on `x`, using only `rows` when given (for cross-validation folds).
    public static func fit(_ x: FeatureMatrix, rows: [Int]? = nil) throws(HeadsError) -> Standardization {
        var accumulator = StandardizationAccumulator(featureCount: x.columns)
        if let rows {
            try accumulator.add(x, rows: rows)
        } else {
            try accumulator.add(x)
        }
        return try accumulator.finish()
    }

    /// Number of features.
    public var featureCount: Int { mean.count }

    /// Returns the standardised copy of `x`.
    public func apply(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix {
        var copy = x
        try apply(inPlace: &copy)
        return copy
    }

    /// Standardises `x` in place (no copy of a large matrix).
    public func apply(inPlace x: inout FeatureMatrix) throws(HeadsError) {
        guard x.columns == featureCount else {
            throw .shapeMismatch(what: "features to standardise", expected: [x.rows, featureCount],
                                 got: [x.rows, x.columns])
        }
        let d = featureCount, rows = x.rows
        let inverse = scale.map { 1 / $0 }
        mean.withUnsafeBufferPointer { m in
            inverse.withUnsafeBufferPointer { s in
                x.withUnsafeMutableValues { v in
                    for r in 0..<rows {
                        let row = v.baseAddress! + r * d
                        for j in 0..<d { row[j] = (row[j] - m[j]) * s[j] }
                    }
                }
            }
        }
    }
}

/// Accumulates per-feature means and variances chunk by chunk (Chan et al.'s parallel update, in
/// Double), so standardisation can be fitted on data streamed from disk.
public struct StandardizationAccumulator: Sendable {
    public let featureCount: Int
    public private(set) var count: Int = 0
    private var mean: [Double]
    private var m2: [Double]

    public init(featureCount: Int) {
        self.featureCount = featureCount
        mean = [Double](repeating: 0, count: featureCount)
        m2 = [Double](repeating: 0, count: featureCount)
    }

    /// Adds all rows of `x`.
    public mutating func add(_ x: FeatureMatrix) throws(HeadsError) {
        try add(x, rows: nil)
    }

    /// Adds the given rows of `x`.
    public mutating func add(_ x: FeatureMatrix, rows: [Int]?) throws(HeadsError) {
        guard x.columns == featureCount else {
            throw .shapeMismatch(what: "features to accumulate", expected: [x.rows, featureCount],
                                 got: [x.rows, x.columns])
        }
        let n = rows?.count ?? x.rows
        if n == 0 { return }
        if let rows, let bad = rows.first(where: { $0 < 0 || $0 >= x.rows }) {
            throw .shapeMismatch(what: "row index \(bad)", expected: [x.rows], got: [bad])
        }
        let d = featureCount
        // Chunk statistics first (two passes over the chunk), then merge into the running totals.
        var chunkMean = [Double](repeating: 0, count: d)
        var chunkM2 = [Double](repeating: 0, count: d)
        x.values.withUnsafeBufferPointer { v in
            for r in 0..<n {
                let row = v.baseAddress! + (rows?[r] ?? r) * d
                for j in 0..<d { chunkMean[j] += Double(row[j]) }
            }
            let inverseN = 1 / Double(n)
            for j in 0..<d { chunkMean[j] *= inverseN }
            for r in 0..<n {
                let row = v.baseAddress! + (rows?[r] ?? r) * d
                for j in 0..<d {
                    let delta = Double(row[j]) - chunkMean[j]
                    chunkM2[j] += delta * delta
                }
            }
        }
        let total = Double(count + n)
        for j in 0..<d {
            let delta = chunkMean[j] - mean[j]
            mean[j] += delta * Double(n) / total
            m2[j] += chunkM2[j] + delta * delta * Double(count) * Double(n) / total
        }
        count += n
    }

    /// The fitted standardisation.
    public func finish() throws(HeadsError) -> Standardization {
        guard count > 0 else { throw .emptyData(what: "standardisation") }
        var scale = [Float](repeating: 1, count: featureCount)
        let stds = (0..<featureCount).map { (m2[$0] / Double(count)).squareRoot() }
        // Dead units: a network output that is numerically zero on every item (all-MiniLM-L6-v2's sentence
        // dimensions 127 and 223 are about 1e-33) has a "standard deviation" of float noise. StandardScaler
        // would divide by it, fitting noise, and a head folded into a network layer (LP-FT) would get weights
        // of 1e30 whose gradients overflow. Features spread less than 1e-6 of the median feature's count as
        // constant (the only departure from scikit-learn; it needs a median above zero).
        let sorted = stds.filter { $0.isFinite }.sorted()
        let dead = sorted.isEmpty ? 0 : 1e-6 * sorted[sorted.count / 2]
        for j in 0..<featureCount {
            let std = stds[j]
            // StandardScaler treats variances below ~10 eps * mean^2 as zero.
            let tiny = 10 * Double.ulpOfOne * max(mean[j] * mean[j], Double.leastNormalMagnitude)
            scale[j] = (std * std > tiny && std > dead && std.isFinite && Float(std) > 0) ? Float(std) : 1
        }
        return try Standardization(mean: mean.map { Float($0) }, scale: scale)
    }
}
