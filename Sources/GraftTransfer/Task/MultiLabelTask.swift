import GraftData
import GraftHeads
import GraftTensor

/// Any number of labels per item. On features: one-vs-rest logistic regression with a threshold per
/// label chosen on validation items (`OneVsRestLogistic`, fitted by `FeatureStages.fitMultiLabel` from a
/// label-list file). Networks: a sigmoid per label trained with binary cross-entropy on the logits
/// (PyTorch's `BCEWithLogitsLoss`), thresholds chosen the same way on the validation split's
/// probabilities (`calibrated`). Metrics micro/macro F1, Hamming loss, per-label P/R/F1 and mAP
/// (`MultiLabelReport`). Scores are per-label sigmoids.
public struct MultiLabelTask: TransferTask {
    /// A label is predicted at or above its threshold (0.5 until calibrated).
    public var thresholds: [Float]?
    /// The label names (of the label-list file); nil: the data's class names stand for them.
    public var labelNames: [String]?

    public init(labels: [String]? = nil, thresholds: [Float]? = nil) { labelNames = labels; self.thresholds = thresholds }
    public var kind: TaskKind { .multiLabel }

    public func outputCount(classNames: [String]) -> Int { outputNames(classNames: classNames).count }
    public func outputNames(classNames: [String]) -> [String] { labelNames ?? classNames }

    public func loss(_ outputs: Tensor, targets: BatchTargets, labelSmoothing: Float) throws -> Tensor {
        let y = try requireVectors(targets, rows: outputs.shape[0], width: outputs.shape[1])
        return try outputs.binaryCrossEntropyWithLogits(targets: Tensor(shape: outputs.shape, values: y))
    }

    public func scores(_ outputs: Tensor) throws -> Tensor { try outputs.sigmoid() }

    public var metricName: String { "micro_f1" }

    /// Micro-F1 of the labels at or above 0.5 (the thresholds are chosen after training).
    public func metric(_ outputs: Tensor, targets: BatchTargets) throws -> Double {
        let y = try requireVectors(targets, rows: outputs.shape[0], width: outputs.shape[1])
        var tp = 0, predicted = 0, actual = 0
        for (logit, truth) in zip(outputs.values, y) {
            let p = logit >= 0, t = truth > 0.5
            if p { predicted += 1 }
            if t { actual += 1 }
            if p && t { tp += 1 }
        }
        return predicted + actual == 0 ? 1 : Double(2 * tp) / Double(predicted + actual)
    }

    public func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport {
        throw TransferError.unsupported("a multi-label model has no single-label report: its metrics are a MultiLabelReport")
    }

    public func metrics(scores: FeatureMatrix, targets: BatchTargets) throws -> TaskMetrics? {
        let truth = try labelSets(targets, rows: scores.rows, width: scores.columns)
        let t = thresholds ?? [Float](repeating: 0.5, count: scores.columns)
        let predicted = (0..<scores.rows).map { r in (0..<scores.columns).filter { scores[r, $0] >= t[$0] } }
        return .multiLabel(try MultiLabelReport(truth: truth, predicted: predicted, probabilities: scores, labelCount: scores.columns))
    }

    /// One-vs-rest logistic regression, C = 1; labels no probe item carries get a constant model.
    public func probe(_ x: FeatureMatrix, targets: BatchTargets, outputs: Int, seed: UInt64) throws -> ProbeFit? {
        guard x.rows >= 2 else { return nil }
        let sets = try labelSets(targets, rows: x.rows, width: outputs)
        let head = try OneVsRestLogistic(.init(C: 1)).fit(x, labels: sets, labelCount: outputs)
        return ProbeFit(head, regularisation: head.C)
    }

    /// Each label's F1-maximising threshold on the validation probabilities (`OneVsRestLogistic.thresholds`).
    public func calibrated(scores: FeatureMatrix, targets: BatchTargets) throws -> any TransferTask {
        guard scores.rows > 0 else { return self }
        return MultiLabelTask(labels: labelNames, thresholds: try OneVsRestLogistic.thresholds(probabilities: scores,
                                                                           labels: labelSets(targets, rows: scores.rows, width: scores.columns)))
    }

    public func record(in manifest: inout BundleManifest) { manifest.headThresholds = thresholds }

    private func labelSets(_ targets: BatchTargets, rows: Int, width: Int) throws -> [[Int]] {
        let y = try requireVectors(targets, rows: rows, width: width)
        return (0..<rows).map { r in (0..<width).filter { y[r * width + $0] > 0.5 } }
    }
}
