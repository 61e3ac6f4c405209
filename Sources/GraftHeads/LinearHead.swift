import Foundation

/// Which model a head on features is.
public enum HeadKind: String, Codable, Sendable {
    case logisticRegression = "logreg"
    case linearSVM = "svm"
    /// Nearest class mean of L2-normalised features (no fitting; a `LinearHead` on normalised rows).
    case prototype
    /// k nearest training rows by cosine distance, majority vote (`NearestNeighborsHead`).
    case nearestNeighbors = "knn"
    /// Ridge regression (the regression task's head: `RegressionHead`).
    case ridge
    /// One-vs-rest logistic regression with per-label thresholds (the multi-label task's head: `MultiLabelHead`).
    case oneVsRest = "ovr"

    /// Whether the head is fitted by an optimiser with an inverse regularisation `C`.
    public var isRegularised: Bool { self == .logisticRegression || self == .linearSVM }
}

/// A fitted linear classifier: `scores = W x~ + b` with `x~` the standardised features
/// (for a `.prototype` head, the L2-normalised features: see `PrototypeClassifier`).
///
/// Plain `Codable` data so a bundle can store it (weights as a tensor, the rest as JSON).
public struct LinearHead: Codable, Sendable, Equatable {
    /// Logistic regression (probabilities) or linear SVM (decision values only).
    public var kind: HeadKind
    /// Class labels in score order: column `c` of every output belongs to `classes[c]`.
    public var classes: [Int]
    /// Number of input features.
    public var featureCount: Int
    /// `[classes.count, featureCount]`, row-major, acting on standardised features when
    /// `standardization` is set.
    public var weights: [Float]
    /// One intercept per class.
    public var bias: [Float]
    /// Applied to raw features before the weights, if the head was fitted with standardisation.
    public var standardization: Standardization?
    /// Inverse regularisation strength used for the fit.
    public var C: Double

    /// Builds a head; checks that the shapes agree.
    public init(kind: HeadKind, classes: [Int], featureCount: Int, weights: [Float], bias: [Float],
                standardization: Standardization?, C: Double) throws(HeadsError) {
        self.kind = kind
        self.classes = classes
        self.featureCount = featureCount
        self.weights = weights
        self.bias = bias
        self.standardization = standardization
        self.C = C
        try validate()
    }

    /// Checks a head (for example one just decoded from a bundle) for consistent shapes.
    public func validate() throws(HeadsError) {
        guard classes.count >= 2 else { throw .singleClass(label: classes.first ?? 0, rows: 0) }
        guard featureCount > 0 else { throw .emptyData(what: "head features") }
        guard weights.count == classes.count * featureCount else {
            throw .shapeMismatch(what: "head weights", expected: [classes.count, featureCount], got: [weights.count])
        }
        guard bias.count == classes.count else {
            throw .shapeMismatch(what: "head bias", expected: [classes.count], got: [bias.count])
        }
        if let standardization {
            guard standardization.featureCount == featureCount,
                  standardization.scale.count == featureCount else {
                throw .shapeMismatch(what: "head standardisation", expected: [featureCount],
                                     got: [standardization.featureCount, standardization.scale.count])
            }
            // Decoding skips Standardization's own checks; a zero scale would divide by zero.
            _ = try Standardization(mean: standardization.mean, scale: standardization.scale)
        }
    }

    /// Raw scores `[rows, classes]`: logits for logistic regression, margins for the SVM.
    public func decisionFunction(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix {
        try validate()
        guard x.columns == featureCount else {
            throw .shapeMismatch(what: "features for head", expected: [x.rows, featureCount], got: [x.rows, x.columns])
        }
        return try affineScores(kind == .prototype ? x.l2NormalizedRows() : x, weights: weights, bias: bias,
                         standardization: standardization, outputs: classes.count)
    }

    /// Class probabilities `[rows, classes]` (softmax of the logits). Logistic regression only.
    public func predictProbabilities(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix {
        guard kind == .logisticRegression else { throw .probabilitiesUnavailable(kind: kind) }
        var scores = try decisionFunction(x)
        Self.softmaxRows(&scores)
        return scores
    }

    /// Replaces each row of scores by its softmax.
    static func softmaxRows(_ scores: inout FeatureMatrix) {
        let k = scores.columns
        guard k > 0 else { return }
        scores.withUnsafeMutableValues { v in
            for i in 0 ..< v.count / k {
                let row = v.baseAddress! + i * k
                var top = row[0]
                for c in 1..<k { top = max(top, row[c]) }
                var sum: Float = 0
                for c in 0..<k { row[c] = Foundation.exp(row[c] - top); sum += row[c] }
                for c in 0..<k { row[c] /= sum }
            }
        }
    }

    /// The predicted class label of each row (the highest score; ties go to the first class).
    public func predict(_ x: FeatureMatrix) throws(HeadsError) -> [Int] {
        let scores = try decisionFunction(x)
        return Self.argmaxLabels(scores, classes: classes)
    }

    static func argmaxLabels(_ scores: FeatureMatrix, classes: [Int]) -> [Int] {
        let k = scores.columns
        return (0..<scores.rows).map { i in
            var best = 0
            for c in 1..<k where scores[i, c] > scores[i, best] { best = c }
            return classes[best]
        }
    }
}

/// `W x~ + b` for `outputs` rows of weights (`[outputs, x.columns]`) acting on standardised features:
/// the arithmetic of every linear head (classifier scores, regression predictions).
func affineScores(_ x: FeatureMatrix, weights: [Float], bias: [Float], standardization: Standardization?,
                  outputs: Int) throws(HeadsError) -> FeatureMatrix {
    let k = outputs, d = x.columns
    var out = FeatureMatrix(zerosRows: x.rows, columns: k)
    if x.rows == 0 { return out }
    // Fold the standardisation into the weights so the (possibly huge) input is never copied.
    var w = weights, b = bias
    if let standardization {
        for c in 0..<k {
            var shift = 0.0
            for j in 0..<d {
                w[c * d + j] /= standardization.scale[j]
                shift += Double(w[c * d + j]) * Double(standardization.mean[j])
            }
            b[c] -= Float(shift)
        }
    }
    try x.values.withUnsafeBufferPointer { (xv) throws(HeadsError) in
        try w.withUnsafeBufferPointer { (wv) throws(HeadsError) in
            try out.withUnsafeMutableValues { (o) throws(HeadsError) in
                try Sgemm.multiply(transposeA: false, transposeB: true, m: x.rows, n: k, k: d,
                                   a: xv.baseAddress!, lda: d, b: wv.baseAddress!, ldb: d,
                                   c: o.baseAddress!, ldc: k)
                for i in 0..<x.rows { for c in 0..<k { o[i * k + c] += b[c] } }
            }
        }
    }
    return out
}
