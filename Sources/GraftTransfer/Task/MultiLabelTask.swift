import GraftHeads
import GraftTensor

/// Any number of labels per item: one-vs-rest logistic regression on features with a threshold per
/// label chosen on validation items (`OneVsRestLogistic`, fitted by `FeatureStages.fitMultiLabel` from
/// a label-list file); metrics micro/macro F1, Hamming loss, per-label P/R/F1 and mAP
/// (`MultiLabelReport`). Scores are per-label sigmoids. Fine-tuning with a BCE head needs label sets in
/// `Batch` and is not built yet: the network doors refuse with a typed error.
public struct MultiLabelTask: TransferTask {
    public init() {}
    public var kind: TaskKind { .multiLabel }
    public var trainsFromClassLabels: Bool { false }

    public func outputCount(classNames: [String]) -> Int { classNames.count }

    public func loss(_ outputs: Tensor, labels: [Int], labelSmoothing: Float) throws -> Tensor {
        throw TransferError.unsupported(Self.networkTraining)
    }

    public func scores(_ outputs: Tensor) throws -> Tensor { try outputs.sigmoid() }

    public func correct(_ outputs: Tensor, labels: [Int]) throws -> Int {
        throw TransferError.unsupported(Self.networkTraining)
    }

    public func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport {
        throw TransferError.unsupported("a multi-label model has no single-label report: its metrics are a MultiLabelReport")
    }

    static let networkTraining = "multi-label trains a one-vs-rest head on features (graft fit --task multi-label); "
        + "fine-tuning a network with a BCE head is not built yet"
}
