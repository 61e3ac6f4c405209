import GraftData
import GraftHeads
import GraftTensor

/// Predictions of a trained network on a split, scored into a report by its task.
public enum Evaluation {
    /// A network's scores for some items of a data set, with the items' targets.
    public struct Scored: Sendable {
        /// `task.scores` of each item, `[items, outputs]`.
        public var scores: FeatureMatrix
        public var targets: BatchTargets
        public var ids: [String]
        /// Indices into the data set of the items read (unreadable ones are left out).
        public var indices: [Int]
    }

    /// Runs `network` in inference mode over `indices`; returns the task's scores and the targets.
    public static func score(_ network: TaskNetwork, task: any TransferTask, dataset: any Dataset, indices: [Int], batchSize: Int = 32,
                             progress: ProgressHandler? = nil) throws -> Scored {
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: network.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: batchSize))
        var targets = BatchTargets.classes([]), probs: [Float] = [], ids: [String] = [], read: [Int] = []
        let meter = ProgressMeter(phase: .evaluating, total: indices.count)
        var columns = 0
        try withNoGrad {
            while let batch = try loader.next() {
                guard batch.count > 0 else { continue }
                let scores = try task.scores(network.outputs(batch, training: false))
                columns = scores.shape[1]
                probs += scores.values
                targets = try targets.appending(batch.requireTargets()); ids += batch.ids; read += batch.indices
                progress?(meter.event(completed: ids.count))
            }
        }
        return Scored(scores: try FeatureMatrix(rows: ids.count, columns: columns, values: probs), targets: targets, ids: ids, indices: read)
    }

    /// Runs `network` in inference mode over `indices` of class-labelled data; returns truth, predictions and scores.
    public static func predict(_ network: TaskNetwork, task: any TransferTask = ClassificationTask(), dataset: any Dataset,
                               indices: [Int], batchSize: Int = 32,
                               progress: ProgressHandler? = nil) throws -> (truth: [Int], predicted: [Int], probabilities: FeatureMatrix, ids: [String]) {
        let s = try score(network, task: task, dataset: dataset, indices: indices, batchSize: batchSize, progress: progress)
        guard case let .classes(truth) = s.targets else {
            throw TransferError.unsupported("class predictions need class labels; the \(task.kind.rawValue) task's items carry \(s.targets.describedKind)")
        }
        return (truth, ItemPredictions.mostProbable(s.scores, columnLabels: nil).labels, s.scores, s.ids)
    }

    public static func report(_ network: TaskNetwork, task: any TransferTask = ClassificationTask(), dataset: any Dataset,
                              indices: [Int], progress: ProgressHandler? = nil) throws -> ClassificationReport {
        let p = try predict(network, task: task, dataset: dataset, indices: indices, progress: progress)
        return try task.report(truth: p.truth, scores: p.probabilities, trainedClasses: Array(0..<p.probabilities.columns))
    }
}
