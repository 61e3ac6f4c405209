import Foundation
import GraftData
import GraftHeads

/// A bundle scored on labelled data: what `graft evaluate` and the library's
/// `evaluate(on:)` run. Classes are matched by name; an item whose class the
/// bundle never learnt counts as an error, under label `k + its data label`
/// (`k` the bundle's class count), so the report names it instead of hiding it.
public struct BundleEvaluation: Sendable {
    public var report: ClassificationReport
    /// Per-item predictions (truth indexes the data set's classes, predictions the bundle's), for reports of mistakes.
    public var predictions: ItemPredictions
    /// The bundle's classes, in output order.
    public var modelClasses: [String]
    /// The evaluated data set's classes.
    public var dataClasses: [String]

    /// Data classes the bundle never learnt.
    public var unseenClasses: [String] { dataClasses.filter { !modelClasses.contains($0) } }

    /// Names of every label the report may hold: the bundle's classes, then the data set's with `unseenPrefix`.
    public func labelNames(unseenPrefix: String = "") -> [String] { modelClasses + dataClasses.map { unseenPrefix + $0 } }

    /// Runs `classifier` over `indices` of `dataset` (all items when nil).
    public init(_ classifier: TrainedClassifier, dataset: any Dataset, indices: [Int]? = nil, batchSize: Int = 32,
                progress: ProgressHandler? = nil) throws {
        // A regression or multi-label bundle's outputs are values or independent label probabilities: a
        // classification report (argmax against one class per item) of them would be wrong, not merely partial.
        guard classifier.manifest.task == .classification else {
            throw TransferError.unsupported("\(classifier.url.path) is a \(classifier.manifest.task.rawValue) bundle: score it on data that "
                + "carries its targets with TaskEvaluation (graft evaluate --\(classifier.manifest.task == .regression ? "targets" : "labels") FILE)")
        }
        let names = classifier.classNames, k = names.count
        let mapping = dataset.classNames.map { names.firstIndex(of: $0) }
        let indices = indices ?? Array(0..<dataset.count)
        let loader = BatchLoader(dataset: dataset, indices: indices, preprocessing: classifier.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: batchSize))
        let meter = ProgressMeter(phase: .evaluating, total: indices.count)
        var labels: [Int] = [], ids: [String] = [], positions: [Int] = [], probabilities: [Float] = []
        while let batch = try loader.next() {
            guard batch.count > 0 else { continue }
            for row in try classifier.probabilities(batch) { probabilities += row }
            labels += try batch.requireLabels(); ids += batch.ids; positions += batch.indices
            progress?(meter.event(completed: labels.count))
        }
        guard !labels.isEmpty else { throw TransferError.emptyData("no example of the evaluation data could be read") }
        let matrix = try FeatureMatrix(rows: labels.count, columns: k, values: probabilities)
        let best = ItemPredictions.mostProbable(matrix, columnLabels: nil)
        let truth = labels.map { label in (label < mapping.count ? mapping[label] : nil) ?? k + label }
        report = try ClassificationReport(truth: truth, predicted: best.labels, probabilities: matrix, trainedClasses: Array(0..<k))
        predictions = try ItemPredictions(indices: positions, ids: ids, truth: labels, predicted: best.labels, confidence: best.probabilities)
        modelClasses = names
        dataClasses = dataset.classNames
    }

    /// The `k` wrong predictions the bundle was surest of, with thumbnails or snippets from `dataset`.
    public func mistakes(in dataset: any Dataset, k: Int = 16) -> [MisclassifiedExample] {
        Misclassifications.mostConfident(predictions, dataset: dataset, predictedClassNames: modelClasses, k: k)
    }
}
