import Foundation
import GraftData
import GraftHeads

/// A regression or multi-label bundle scored on data whose items carry their targets
/// (`TargetedDataset`): what `graft evaluate` runs for those tasks. Feature bundles and fine-tuned
/// networks alike: the bundle's values (regression) or label probabilities with its thresholds
/// (multi-label) against the targets, scored by the bundle's task.
public struct TaskEvaluation: Sendable {
    public var metrics: TaskMetrics
    /// The items' predictions and targets (the report's scatter plots).
    public var scored: Evaluation.Scored

    public init(_ model: TrainedModel, dataset: any Dataset, indices: [Int]? = nil, batchSize: Int = 32,
                progress: ProgressHandler? = nil) throws {
        let indices = indices ?? Array(0..<dataset.count)
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: model.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: batchSize))
        let meter = ProgressMeter(phase: .evaluating, total: indices.count)
        var rows: [Float] = [], targets = BatchTargets.classes([]), ids: [String] = [], read: [Int] = []
        let isRegression = model.manifest.task == .regression
        while let batch = try loader.next() {
            guard batch.count > 0 else { continue }
            for row in try isRegression ? model.values(batch) : model.manifest.task == .detection ? model.outputRows(batch) : model.probabilities(batch) { rows += row }
            targets = try targets.appending(batch.requireTargets()); ids += batch.ids; read += batch.indices
            progress?(meter.event(completed: ids.count))
        }
        guard !ids.isEmpty else { throw TransferError.emptyData("no example of the evaluation data could be read") }
        let scores = try FeatureMatrix(rows: ids.count, columns: rows.count / ids.count, values: rows)   // a detector's rows are its raw maps
        var task = model.task
        if let thresholds = model.thresholds { task = MultiLabelTask(labels: model.classNames, thresholds: thresholds) }
        guard let metrics = try task.metrics(scores: scores, targets: targets) else {
            throw TransferError.unsupported("\(model.url.path) is a classification bundle: its metrics are a BundleEvaluation")
        }
        self.metrics = metrics
        scored = Evaluation.Scored(scores: scores, targets: targets, ids: ids, indices: read)
    }
}
