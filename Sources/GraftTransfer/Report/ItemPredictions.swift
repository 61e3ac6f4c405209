import Foundation
import GraftData
import GraftHeads
import GraftTensor

/// What a model predicted for each evaluated item, kept so a report can show
/// its most confident mistakes without running the model again.
public struct ItemPredictions: Codable, Sendable, Equatable {
    /// Indices into the evaluated data set, in evaluation order; -1 where an id was not found.
    public var indices: [Int]
    /// `Dataset.sourceID` of each row.
    public var ids: [String]
    /// True labels (indices into the data set's classes).
    public var truth: [Int]
    /// Predicted labels (indices into the model's classes).
    public var predicted: [Int]
    /// Probability the model gave its own prediction (a linear SVM: softmax of its margins).
    public var confidence: [Float]

    public var count: Int { truth.count }

    /// Rows with every array of the same length; throws `TransferError.emptyData` otherwise.
    public init(indices: [Int], ids: [String], truth: [Int], predicted: [Int], confidence: [Float]) throws {
        let n = truth.count
        guard indices.count == n, ids.count == n, predicted.count == n, confidence.count == n else {
            throw TransferError.emptyData("predictions of unequal lengths: \(indices.count) indices, \(ids.count) ids, \(n) labels, \(predicted.count) predictions, \(confidence.count) confidences")
        }
        self.indices = indices; self.ids = ids; self.truth = truth; self.predicted = predicted; self.confidence = confidence
    }

    /// Rows of class probabilities: the prediction is the most probable column
    /// (`columnLabels[c]`, default `c`), the confidence its probability.
    public init(ids: [String], truth: [Int], probabilities: FeatureMatrix, columnLabels: [Int]? = nil,
                dataset: any Dataset, among candidates: [Int]) throws {
        let best = Self.mostProbable(probabilities, columnLabels: columnLabels)
        try self.init(indices: Self.indices(of: ids, in: dataset, among: candidates), ids: ids, truth: truth,
                      predicted: best.labels, confidence: best.probabilities)
    }

    /// Predictions of a head on feature rows: its own predictions, with the score it gave each
    /// (probabilities for logistic regression, vote shares for k-NN, a softmax of the raw scores otherwise).
    public init(head: any ClassifierHead, features: FeatureMatrix, ids: [String], truth: [Int], dataset: any Dataset,
                among candidates: [Int]) throws {
        let scores = try head.classScores(features)
        let predicted = try head.predict(features)
        let column = Dictionary(uniqueKeysWithValues: head.classes.enumerated().map { ($1, $0) })
        let confidence = predicted.enumerated().map { r, label in column[label].map { scores[r, $0] } ?? 0 }
        try self.init(indices: Self.indices(of: ids, in: dataset, among: candidates), ids: ids, truth: truth,
                      predicted: predicted, confidence: confidence)
    }

    /// Runs a network over `indices` in inference mode and keeps its per-item predictions.
    public static func predict(_ network: TaskNetwork, task: any TransferTask = ClassificationTask(), dataset: any Dataset,
                               indices: [Int], progress: ProgressHandler? = nil) throws -> (report: ClassificationReport, predictions: ItemPredictions) {
        let p = try Evaluation.predict(network, task: task, dataset: dataset, indices: indices, progress: progress)
        let report = try task.report(truth: p.truth, scores: p.probabilities, trainedClasses: Array(0..<p.probabilities.columns))
        let predictions = try ItemPredictions(ids: p.ids, truth: p.truth, probabilities: p.probabilities, dataset: dataset, among: indices)
        return (report, predictions)
    }

    /// Runs a bundle over `indices`; predicted labels index `classifier.classNames`.
    public static func predict(_ classifier: TrainedClassifier, dataset: any Dataset, indices: [Int], batchSize: Int = 32) throws -> ItemPredictions {
        try BundleEvaluation(classifier, dataset: dataset, indices: indices, batchSize: batchSize).predictions
    }

    /// The most probable column of each row (first on ties) and its probability.
    static func mostProbable(_ m: FeatureMatrix, columnLabels: [Int]?) -> (labels: [Int], probabilities: [Float]) {
        var labels = [Int](), probabilities = [Float]()
        for r in 0..<m.rows {
            let row = m.row(r)
            var best = row.startIndex
            for i in row.indices where row[i] > row[best] { best = i }
            let column = best - row.startIndex
            labels.append(columnLabels.map { column < $0.count ? $0[column] : column } ?? column)
            probabilities.append(row.isEmpty ? 0 : row[best])
        }
        return (labels, probabilities)
    }

    /// Maps source ids back to data set indices (among `candidates`, or all items when empty); -1 when absent.
    static func indices(of ids: [String], in dataset: any Dataset, among candidates: [Int]) -> [Int] {
        let pool = candidates.isEmpty ? Array(0..<dataset.count) : candidates
        var byID = [String: Int]()
        for i in pool where i >= 0 && i < dataset.count { byID[dataset.sourceID(at: i)] = byID[dataset.sourceID(at: i)] ?? i }
        return ids.map { byID[$0] ?? -1 }
    }
}
