/// What the linear classifier, the ridge regression and the one-vs-rest multi-label heads share:
/// `outputs = W x~ + b`, `W` `[outputCount, featureCount]` row-major acting on features standardised
/// by `standardization`. A network's final linear layer can take any of them (LP-FT's probe).
public protocol AffineHead: Sendable {
    var featureCount: Int { get }
    var outputCount: Int { get }
    var weights: [Float] { get }
    var bias: [Float] { get }
    var standardization: Standardization? { get }
}

extension AffineHead {
    /// The same map on raw features: `W' = W / scale`, `b' = b - W' mean` (a linear layer's weight and bias).
    public func rawAffine() -> (weights: [Float], bias: [Float]) {
        let (k, d) = (outputCount, featureCount)
        var w = weights, b = bias
        if let s = standardization {
            for c in 0..<k {
                for j in 0..<d { w[c * d + j] /= s.scale[j]; b[c] -= w[c * d + j] * s.mean[j] }
            }
        }
        return (w, b)
    }
}

extension LinearHead: AffineHead {
    public var outputCount: Int { classes.count }
}

extension RegressionHead: AffineHead {
    public var outputCount: Int { targetCount }
}

extension MultiLabelHead: AffineHead {
    public var outputCount: Int { labelCount }
}
