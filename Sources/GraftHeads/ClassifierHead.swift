/// A fitted classifier on feature rows: what the job, bundles, `TrainedModel` and reports need
/// from any head (linear, prototype, k nearest neighbours), so a new head is a new conformer.
public protocol ClassifierHead: Sendable {
    var kind: HeadKind { get }
    /// Class labels in score order: column `c` of every output belongs to `classes[c]`.
    var classes: [Int] { get }
    /// Number of input features.
    var featureCount: Int { get }
    /// Raw scores `[rows, classes]` (logits, margins, negative distances or vote shares).
    func decisionFunction(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix
    /// Scores that sum to 1 per row `[rows, classes]`: probabilities for logistic regression and
    /// vote shares for k-NN (both as scikit-learn's `predict_proba`), a softmax of the raw scores otherwise.
    func classScores(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix
    /// The predicted class label of each row.
    func predict(_ x: FeatureMatrix) throws(HeadsError) -> [Int]
    /// Whether `classScores` are probabilities a log-loss means something for.
    var givesProbabilities: Bool { get }
    /// Stored numbers (weights, or the remembered rows of k-NN).
    var parameterCount: Int { get }
    /// Inverse regularisation of the fit (nil for heads that fit nothing).
    var regularisation: Double? { get }
}

extension ClassifierHead {
    /// Predicts `x` and scores the predictions against `labels` (with the log-loss when the head gives
    /// probabilities), reporting true labels the head was not trained on.
    public func evaluate(_ x: FeatureMatrix, labels: [Int]) throws(HeadsError) -> ClassificationReport {
        guard labels.count == x.rows else { throw .labelCountMismatch(rows: x.rows, labels: labels.count) }
        let predicted = try predict(x)
        let probabilities = givesProbabilities ? try classScores(x) : nil
        return try ClassificationReport(truth: labels, predicted: predicted, probabilities: probabilities, trainedClasses: classes)
    }
}

extension LinearHead: ClassifierHead {
    public func classScores(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix {
        var scores = try decisionFunction(x)
        Self.softmaxRows(&scores)
        return scores
    }
    public var givesProbabilities: Bool { kind == .logisticRegression }
    public var parameterCount: Int { weights.count + bias.count }
    public var regularisation: Double? { kind.isRegularised ? C : nil }
}
