import GraftHeads
import GraftTensor

/// The tasks Graft trains for; bundles record one.
public enum TaskKind: String, Codable, Sendable, CaseIterable {
    /// One label per item (softmax over the classes).
    case classification
    /// One or more numbers per item (`RegressionTask`); the bundle's `classNames` are the target names.
    case regression
    /// Any number of labels per item (`MultiLabelTask`): a sigmoid and a threshold per label.
    case multiLabel = "multi-label"
}

/// What a model is trained to predict. A task owns its head's size, its loss,
/// how raw outputs become scores, its metrics and its prediction format; the
/// job path (`TransferJob`, `Trainer`, `TrainedModel`) asks the task and never
/// branches on it. Multi-label, regression and detection are new conformers.
public protocol TransferTask: Sendable {
    var kind: TaskKind { get }
    /// Outputs the head needs for these classes (or targets).
    func outputCount(classNames: [String]) -> Int
    /// The training loss of raw network outputs `[n, outputs]` against a labelled batch's labels.
    func loss(_ outputs: Tensor, labels: [Int], labelSmoothing: Float) throws -> Tensor
    /// Scores per output (class probabilities for classification), `[n, outputs]`.
    func scores(_ outputs: Tensor) throws -> Tensor
    /// How many of `labels` the outputs get right (the running training metric).
    func correct(_ outputs: Tensor, labels: [Int]) throws -> Int
    /// Metrics of scores against truth. `trainedClasses` are the labels the model can predict.
    func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport
    /// Whether `TransferJob` can train it from a data set's class labels. Tasks whose targets are
    /// not class indices (regression) are fitted on features with their targets (`FeatureStages`).
    var trainsFromClassLabels: Bool { get }
}

extension TransferTask {
    public var trainsFromClassLabels: Bool { true }
}

/// Single-label classification: cross-entropy (with label smoothing), softmax, accuracy and per-class metrics.
public struct ClassificationTask: TransferTask {
    public init() {}
    public var kind: TaskKind { .classification }

    public func outputCount(classNames: [String]) -> Int { classNames.count }

    public func loss(_ outputs: Tensor, labels: [Int], labelSmoothing: Float) throws -> Tensor {
        try outputs.crossEntropy(labels: IndexTensor(labels), labelSmoothing: labelSmoothing)
    }

    public func scores(_ outputs: Tensor) throws -> Tensor { try outputs.softmax() }

    public func correct(_ outputs: Tensor, labels: [Int]) throws -> Int {
        zip(try outputs.argmax(axis: 1).values, labels).filter { Int($0) == $1 }.count
    }

    public func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport {
        let best = ItemPredictions.mostProbable(scores, columnLabels: nil)
        return try ClassificationReport(truth: truth, predicted: best.labels, probabilities: scores, trainedClasses: trainedClasses)
    }
}

extension TaskKind {
    /// The task implementation of a recorded kind.
    public var task: any TransferTask {
        switch self {
        case .classification: ClassificationTask()
        case .regression: RegressionTask()
        case .multiLabel: MultiLabelTask()
        }
    }
}
