import GraftData
import GraftHeads
import GraftTensor

/// Predictions of a trained network on a split, scored into a report by its task.
public enum Evaluation {
    /// Runs `network` in inference mode over `indices`; returns truth, predictions and scores.
    public static func predict(_ network: TaskNetwork, task: any TransferTask = ClassificationTask(), dataset: any Dataset,
                               indices: [Int], batchSize: Int = 32,
                               progress: ProgressHandler? = nil) throws -> (truth: [Int], predicted: [Int], probabilities: FeatureMatrix, ids: [String]) {
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: network.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: batchSize))
        var truth: [Int] = [], probs: [Float] = [], ids: [String] = []
        let meter = ProgressMeter(phase: .evaluating, total: indices.count)
        var columns = 0
        try withNoGrad {
            while let batch = try loader.next() {
                guard batch.count > 0 else { continue }
                let scores = try task.scores(network.outputs(batch, training: false))
                columns = scores.shape[1]
                probs += scores.values
                truth += try batch.requireLabels(); ids += batch.ids
                progress?(meter.event(completed: truth.count))
            }
        }
        let matrix = try FeatureMatrix(rows: truth.count, columns: columns, values: probs)
        return (truth, ItemPredictions.mostProbable(matrix, columnLabels: nil).labels, matrix, ids)
    }

    public static func report(_ network: TaskNetwork, task: any TransferTask = ClassificationTask(), dataset: any Dataset,
                              indices: [Int], progress: ProgressHandler? = nil) throws -> ClassificationReport {
        let p = try predict(network, task: task, dataset: dataset, indices: indices, progress: progress)
        return try task.report(truth: p.truth, scores: p.probabilities, trainedClasses: Array(0..<p.probabilities.columns))
    }
}
