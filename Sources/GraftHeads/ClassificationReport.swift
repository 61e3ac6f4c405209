import Foundation

/// Precision, recall, F1 and support of one class.
public struct ClassMetrics: Codable, Sendable, Equatable {
    public var label: Int
    /// `TP / (TP + FP)`; 0 when the class is never predicted (scikit-learn's `zero_division` default).
    public var precision: Double
    /// `TP / (TP + FN)`; 0 when the class has no true rows.
    public var recall: Double
    /// Harmonic mean of precision and recall; 0 when both are 0.
    public var f1: Double
    /// True rows of the class.
    public var support: Int
}

/// Averages of precision, recall and F1 over classes.
public struct AveragedMetrics: Codable, Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
}

/// Everything `graft evaluate` reports, computed as scikit-learn's `classification_report`,
/// `confusion_matrix`, `accuracy_score`, `balanced_accuracy_score` and `log_loss` compute it.
public struct ClassificationReport: Codable, Sendable, Equatable {
    /// Every label that occurs in the truth, the predictions or the trained classes, ascending;
    /// the order of `perClass` and of the confusion matrix.
    public var labels: [Int]
    public var rows: Int
    public var accuracy: Double
    /// Mean recall over the labels that occur in the truth.
    public var balancedAccuracy: Double
    public var perClass: [ClassMetrics]
    public var macroAverage: AveragedMetrics
    /// Averaged with weights equal to support.
    public var weightedAverage: AveragedMetrics
    /// `confusionMatrix[t][p]`: rows whose true label is `labels[t]` predicted as `labels[p]`.
    public var confusionMatrix: [[Int]]
    /// Mean negative log-probability of the true class (probabilities clipped to
    /// `[eps, 1 - eps]`, eps of Float), over rows whose label the head was trained on; nil without
    /// probabilities.
    public var logLoss: Double?
    /// True labels the head never saw in training (always wrong; left out of the log-loss).
    public var unseenLabels: [Int]
    /// Rows carrying an unseen label.
    public var unseenRows: Int

    /// Scores `predicted` against `truth`.
    /// - Parameters:
    ///   - probabilities: `[rows, trainedClasses.count]`, columns in `trainedClasses` order, for the log-loss.
    ///   - trainedClasses: the head's classes; true labels outside them are reported as unseen.
    public init(truth: [Int], predicted: [Int], probabilities: FeatureMatrix? = nil,
                trainedClasses: [Int]? = nil) throws(HeadsError) {
        guard !truth.isEmpty else { throw .emptyData(what: "labels to evaluate") }
        guard predicted.count == truth.count else { throw .labelCountMismatch(rows: truth.count, labels: predicted.count) }
        let trained = trainedClasses ?? Array(Set(truth + predicted)).sorted()
        if let probabilities, probabilities.rows != truth.count || probabilities.columns != trained.count {
            throw .shapeMismatch(what: "probabilities", expected: [truth.count, trained.count],
                                 got: [probabilities.rows, probabilities.columns])
        }
        let labels = Array(Set(truth).union(predicted).union(trained)).sorted()
        var position = [Int: Int]()
        for (i, l) in labels.enumerated() { position[l] = i }
        let L = labels.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: L), count: L)
        for (t, p) in zip(truth, predicted) {
            if let a = position[t], let b = position[p] { confusion[a][b] += 1 }
        }
        var perClass = [ClassMetrics]()
        var recallSum = 0.0, presentClasses = 0
        for (i, label) in labels.enumerated() {
            let tp = Double(confusion[i][i])
            let support = confusion[i].reduce(0, +)
            let predictedCount = (0..<L).reduce(0) { $0 + confusion[$1][i] }
            let precision = predictedCount > 0 ? tp / Double(predictedCount) : 0
            let recall = support > 0 ? tp / Double(support) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            perClass.append(ClassMetrics(label: label, precision: precision, recall: recall, f1: f1, support: support))
            if support > 0 { recallSum += recall; presentClasses += 1 }
        }
        let n = Double(truth.count)
        func average(_ weight: (ClassMetrics) -> Double) -> AveragedMetrics {
            let total = perClass.reduce(0) { $0 + weight($1) }
            guard total > 0 else { return AveragedMetrics(precision: 0, recall: 0, f1: 0) }
            return AveragedMetrics(precision: perClass.reduce(0) { $0 + weight($1) * $1.precision } / total,
                                   recall: perClass.reduce(0) { $0 + weight($1) * $1.recall } / total,
                                   f1: perClass.reduce(0) { $0 + weight($1) * $1.f1 } / total)
        }
        let trainedSet = Set(trained)
        let unseen = Array(Set(truth).subtracting(trainedSet)).sorted()

        var logLoss: Double?
        if let probabilities {
            var column = [Int: Int]()
            for (i, l) in trained.enumerated() { column[l] = i }
            let eps = Double(Float.ulpOfOne)
            var sum = 0.0, counted = 0
            for (r, t) in truth.enumerated() {
                guard let c = column[t] else { continue }
                let p = min(max(Double(probabilities[r, c]), eps), 1 - eps)
                sum -= Foundation.log(p)
                counted += 1
            }
            logLoss = counted > 0 ? sum / Double(counted) : nil
        }

        self.labels = labels
        rows = truth.count
        accuracy = Double(zip(truth, predicted).filter { $0 == $1 }.count) / n
        balancedAccuracy = presentClasses > 0 ? recallSum / Double(presentClasses) : 0
        self.perClass = perClass
        macroAverage = average { _ in 1 }
        weightedAverage = average { Double($0.support) }
        confusionMatrix = confusion
        self.logLoss = logLoss
        unseenLabels = unseen
        unseenRows = truth.filter { !trainedSet.contains($0) }.count
    }
}
