import GraftData
import GraftHeads
import GraftTensor

/// Predictions of a trained network or head on a split, scored into a report.
public enum Evaluation {
    /// Runs `network` in inference mode over `indices`; returns truth, predictions and probabilities.
    public static func predict(_ network: ClassifierNetwork, dataset: any Dataset, indices: [Int], batchSize: Int = 32,
                               progress: ProgressHandler? = nil) throws -> (truth: [Int], predicted: [Int], probabilities: FeatureMatrix, ids: [String]) {
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: network.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: batchSize))
        var truth: [Int] = [], predicted: [Int] = [], probs: [Float] = [], ids: [String] = []
        let meter = ProgressMeter(phase: .evaluating, total: indices.count)
        var classes = 0
        try withNoGrad {
            while let batch = try loader.next() {
                guard batch.count > 0 else { continue }
                let logits = try network.logits(batch, training: false)
                classes = logits.shape[1]
                probs += try logits.softmax().values
                predicted += try logits.argmax(axis: 1).values.map(Int.init)
                truth += batch.labels; ids += batch.ids
                progress?(meter.event(completed: truth.count))
            }
        }
        return (truth, predicted, try FeatureMatrix(rows: truth.count, columns: classes, values: probs), ids)
    }

    public static func report(_ network: ClassifierNetwork, dataset: any Dataset, indices: [Int], progress: ProgressHandler? = nil) throws -> ClassificationReport {
        let p = try predict(network, dataset: dataset, indices: indices, progress: progress)
        return try ClassificationReport(truth: p.truth, predicted: p.predicted, probabilities: p.probabilities,
                                        trainedClasses: Array(0..<p.probabilities.columns))
    }
}
