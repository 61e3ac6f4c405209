import Foundation

/// A fitted one-vs-rest logistic head for multi-label data: one sigmoid per label over standardised
/// features, and a threshold per label (chosen on validation rows to maximise the label's F1, see
/// `OneVsRestLogistic`). An item carries every label whose probability reaches its threshold.
public struct MultiLabelHead: Codable, Sendable, Equatable {
    public var labelCount: Int
    public var featureCount: Int
    /// `[labelCount, featureCount]`, row-major: each label's binary logistic weights (standardised features).
    public var weights: [Float]
    public var bias: [Float]
    public var standardization: Standardization?
    /// Inverse regularisation of every binary fit.
    public var C: Double
    /// A label is predicted when its probability is at least its threshold.
    public var thresholds: [Float]

    public init(labelCount: Int, featureCount: Int, weights: [Float], bias: [Float], standardization: Standardization?, C: Double,
                thresholds: [Float]) throws(HeadsError) {
        self.labelCount = labelCount; self.featureCount = featureCount; self.weights = weights; self.bias = bias
        self.standardization = standardization; self.C = C; self.thresholds = thresholds
        try validate()
    }

    public func validate() throws(HeadsError) {
        guard labelCount > 0, featureCount > 0 else { throw .emptyData(what: "multi-label head [\(labelCount), \(featureCount)]") }
        guard weights.count == labelCount * featureCount else {
            throw .shapeMismatch(what: "multi-label weights", expected: [labelCount, featureCount], got: [weights.count])
        }
        guard bias.count == labelCount, thresholds.count == labelCount else {
            throw .shapeMismatch(what: "multi-label bias and thresholds", expected: [labelCount], got: [bias.count, thresholds.count])
        }
        if let standardization {
            guard standardization.featureCount == featureCount else {
                throw .shapeMismatch(what: "multi-label standardisation", expected: [featureCount], got: [standardization.featureCount])
            }
            _ = try Standardization(mean: standardization.mean, scale: standardization.scale)
        }
    }

    /// Probability of each label, `[rows, labelCount]` (a sigmoid per label, not a softmax).
    public func probabilities(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix {
        try validate()
        guard x.columns == featureCount else {
            throw .shapeMismatch(what: "features for head", expected: [x.rows, featureCount], got: [x.rows, x.columns])
        }
        var p = try affineScores(x, weights: weights, bias: bias, standardization: standardization, outputs: labelCount)
        p.withUnsafeMutableValues { v in for i in 0..<v.count { v[i] = 1 / (1 + Foundation.exp(-v[i])) } }
        return p
    }

    /// The labels of each row: every label at or above its threshold, in label order.
    public func predict(_ x: FeatureMatrix) throws(HeadsError) -> [[Int]] {
        let p = try probabilities(x)
        return labelSets(p)
    }

    func labelSets(_ p: FeatureMatrix) -> [[Int]] {
        (0..<p.rows).map { r in (0..<labelCount).filter { p[r, $0] >= thresholds[$0] } }
    }

    /// Micro/macro F1, Hamming loss, per-label P/R/F1 and mAP of the predictions for `x` against `truth`.
    public func evaluate(_ x: FeatureMatrix, truth: [[Int]]) throws(HeadsError) -> MultiLabelReport {
        let p = try probabilities(x)
        return try MultiLabelReport(truth: truth, predicted: labelSets(p), probabilities: p, labelCount: labelCount)
    }
}
