import Foundation

/// A fitted linear regression on features: `y = W x~ + b` for each target, with `x~` the standardised
/// features (ridge regression; see `RidgeRegression`). Plain `Codable` data so a bundle can store it.
public struct RegressionHead: Codable, Sendable, Equatable {
    /// Number of input features.
    public var featureCount: Int
    /// Number of targets predicted per row.
    public var targetCount: Int
    /// `[targetCount, featureCount]`, row-major, acting on standardised features.
    public var weights: [Float]
    /// One intercept per target (the training mean of the target).
    public var bias: [Float]
    public var standardization: Standardization?
    /// The ridge penalty used for the fit.
    public var alpha: Double

    public init(featureCount: Int, targetCount: Int, weights: [Float], bias: [Float], standardization: Standardization?,
                alpha: Double) throws(HeadsError) {
        self.featureCount = featureCount; self.targetCount = targetCount; self.weights = weights; self.bias = bias
        self.standardization = standardization; self.alpha = alpha
        try validate()
    }

    public func validate() throws(HeadsError) {
        guard featureCount > 0, targetCount > 0 else { throw .emptyData(what: "regression head [\(targetCount), \(featureCount)]") }
        guard weights.count == targetCount * featureCount else {
            throw .shapeMismatch(what: "regression weights", expected: [targetCount, featureCount], got: [weights.count])
        }
        guard bias.count == targetCount else { throw .shapeMismatch(what: "regression bias", expected: [targetCount], got: [bias.count]) }
        if let standardization {
            guard standardization.featureCount == featureCount else {
                throw .shapeMismatch(what: "regression standardisation", expected: [featureCount], got: [standardization.featureCount])
            }
            _ = try Standardization(mean: standardization.mean, scale: standardization.scale)
        }
    }

    /// Predicted targets `[rows, targetCount]`. The same arithmetic as a `LinearHead`'s scores.
    public func predict(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix {
        try validate()
        guard x.columns == featureCount else {
            throw .shapeMismatch(what: "features for head", expected: [x.rows, featureCount], got: [x.rows, x.columns])
        }
        return try affineScores(x, weights: weights, bias: bias, standardization: standardization, outputs: targetCount)
    }

    /// MAE, RMSE and R^2 of the predictions for `x` against `targets` (`[rows, targetCount]`).
    public func evaluate(_ x: FeatureMatrix, targets: FeatureMatrix) throws(HeadsError) -> RegressionReport {
        try RegressionReport(truth: targets, predicted: predict(x))
    }
}
