import Foundation
import GraftData
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
    /// Boxes and classes of objects in images (`DetectionTask`): a YOLO network with new heads.
    case detection = "detect"
}

/// What a model is trained to predict. A task owns its head's size, its loss on a batch's targets
/// (`Batch.targets`: class indices, label vectors or values), how raw outputs become scores, the
/// metric that picks the best epoch, LP-FT's probe and its reports; the job path (`TransferJob`,
/// `NetworkRecipe`, `Trainer`, `TrainedModel`) asks the task and never branches on it.
public protocol TransferTask: Sendable {
    var kind: TaskKind { get }
    /// Outputs the head needs for these classes (or targets, or labels).
    func outputCount(classNames: [String]) -> Int
    /// The name of each output for data with these classes: the classes, or the task's own target or label names.
    func outputNames(classNames: [String]) -> [String]
    /// The training loss of raw network outputs `[n, outputs]` against a labelled batch's targets.
    func loss(_ outputs: Tensor, targets: BatchTargets, labelSmoothing: Float) throws -> Tensor
    /// Scores per output (class or label probabilities, predicted values), `[n, outputs]`.
    func scores(_ outputs: Tensor) throws -> Tensor
    /// Short name of `metric` for progress lines and histories ("acc", "r2", "micro_f1").
    var metricName: String { get }
    /// The metric of raw outputs `[n, outputs]` against targets over a set of items, higher is better:
    /// training reports it (batch-weighted) and the best epoch is the one with the best validation value.
    func metric(_ outputs: Tensor, targets: BatchTargets) throws -> Double
    /// Classification metrics of scores against class indices. `trainedClasses` are the labels the model can predict.
    func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport
    /// The task's own metrics of scores against targets (`TaskMetrics`); nil for classification, whose
    /// report is `report(truth:scores:trainedClasses:)`.
    func metrics(scores: FeatureMatrix, targets: BatchTargets) throws -> TaskMetrics?
    /// LP-FT's probe: a head fitted on frozen head inputs `x` against `targets`, as the raw-feature
    /// weights of a linear layer with `outputs` outputs; nil when it cannot stand for the head.
    func probe(_ x: FeatureMatrix, targets: BatchTargets, outputs: Int, seed: UInt64) throws -> ProbeFit?
    /// The backbone this task trains on when the job names `named` (nil: none named); nil leaves the
    /// choice to the data's input kind. Detection: a YOLO detector, at the task's input size.
    func backboneSpec(_ named: BackboneSpec?) throws -> BackboneSpec?
    /// This task bound to the network it trains or scores, checked to fit it: tasks whose head is one
    /// vector per item refuse a detector, detection reads its output layout from a YOLO network.
    func attached(to network: TaskNetwork) throws -> any TransferTask
    /// This task set up for training on `indices` of `dataset` (regression: the targets' mean and scale).
    func prepared(for dataset: any Dataset, indices: [Int]) throws -> any TransferTask
    /// After training: folds whatever `prepared` added into the network's head, returning the task that reads
    /// the finished network's outputs.
    func finished(_ network: TaskNetwork) throws -> any TransferTask
    /// This task with what validation scores decide (multi-label: a threshold per label).
    func calibrated(scores: FeatureMatrix, targets: BatchTargets) throws -> any TransferTask
    /// Writes what the task needs to read a network bundle back (thresholds, loss) into its manifest.
    func record(in manifest: inout BundleManifest)
}

/// A probe head as a linear layer's weights `[outputs, d]` and bias, with its regularisation
/// (C for logistic heads, alpha for ridge).
public struct ProbeFit: Sendable {
    public var weights: [Float]
    public var bias: [Float]
    public var regularisation: Double

    public init(_ head: some AffineHead, regularisation: Double) {
        (weights, bias) = head.rawAffine()
        self.regularisation = regularisation
    }
}

/// Metrics of the tasks whose targets are not class indices. JSON: `{"regression": {...}}` or
/// `{"multiLabel": {...}}`, the report's own fields inside.
public enum TaskMetrics: Codable, Sendable, Equatable {
    case regression(RegressionReport)
    case multiLabel(MultiLabelReport)
    case detection(DetectionMetrics)

    /// The headline metric: R^2 (averaged over targets), micro-F1 or mAP@0.5.
    public var headline: (name: String, value: Double) {
        switch self {
        case let .regression(r): ("r2", r.r2)
        case let .multiLabel(m): ("micro_f1", m.microF1)
        case let .detection(d): ("map50", d.map50)
        }
    }

    /// One line for people: `MAE .. RMSE .. R^2 .. on N examples`, or the multi-label summary.
    public var summaryLine: String {
        switch self {
        case let .regression(r):
            String(format: "MAE %.4f  RMSE %.4f  R^2 %.4f on %d examples", r.meanAbsoluteError, r.rootMeanSquaredError, r.r2, r.rows)
        case let .multiLabel(m):
            String(format: "micro-F1 %.4f  macro-F1 %.4f  mAP %.4f  Hamming loss %.4f on %d examples",
                   m.microF1, m.macroF1, m.meanAveragePrecision, m.hammingLoss, m.rows)
        case let .detection(d):
            String(format: "mAP@0.5 %.4f  mAP@0.5:0.95 %.4f on %d images (%d objects)", d.map50, d.map5095, d.images, d.objects)
        }
    }

    private enum Keys: String, CodingKey { case regression, multiLabel, detection }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if let r = try c.decodeIfPresent(RegressionReport.self, forKey: .regression) { self = .regression(r); return }
        if let d = try c.decodeIfPresent(DetectionMetrics.self, forKey: .detection) { self = .detection(d); return }
        self = .multiLabel(try c.decode(MultiLabelReport.self, forKey: .multiLabel))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case let .regression(r): try c.encode(r, forKey: .regression)
        case let .multiLabel(m): try c.encode(m, forKey: .multiLabel)
        case let .detection(d): try c.encode(d, forKey: .detection)
        }
    }
}

extension TransferTask {
    public func outputNames(classNames: [String]) -> [String] { classNames }
    public func metrics(scores: FeatureMatrix, targets: BatchTargets) throws -> TaskMetrics? { nil }
    public func prepared(for dataset: any Dataset, indices: [Int]) throws -> any TransferTask { self }
    public func backboneSpec(_ named: BackboneSpec?) throws -> BackboneSpec? { named }
    /// One vector per item: the network must have a linear head (a detector's outputs are maps).
    public func attached(to network: TaskNetwork) throws -> any TransferTask {
        guard network.linearHead != nil else {
            throw TransferError.unsupported("the \(kind.rawValue) task needs a network with a linear head; \(network.backbone.spec.model) "
                + "is a detector (use --task detect)")
        }
        return self
    }
    public func finished(_ network: TaskNetwork) throws -> any TransferTask { self }
    public func calibrated(scores: FeatureMatrix, targets: BatchTargets) throws -> any TransferTask { self }
    public func record(in manifest: inout BundleManifest) {}

    /// The targets as values `[n, width]`, or an error naming what the batch holds instead.
    func requireVectors(_ targets: BatchTargets, rows: Int, width: Int) throws -> [Float] {
        let values: [Float]
        switch targets {
        case let .values(v, w) where kind == .regression && w == width: values = v
        case let .labelVectors(v, w) where kind == .multiLabel && w == width: values = v
        default:
            throw TransferError.unsupported("the \(kind.rawValue) task needs \(kind == .regression ? "values" : "label vectors") of width \(width) "
                + "per item, but the batch carries \(targets.describedKind) (give the data its targets: --targets or --labels)")
        }
        guard values.count == rows * width else {
            throw TransferError.unsupported("\(rows) outputs but targets for \(values.count / max(width, 1)) items")
        }
        return values
    }
}

extension BatchTargets {
    var describedKind: String {
        switch self {
        case .classes: "class indices"
        case let .labelVectors(_, w): "label vectors of width \(w)"
        case let .values(_, w): "values of width \(w)"
        case .boxes: "boxes"
        }
    }
}

/// Single-label classification: cross-entropy (with label smoothing), softmax, accuracy and per-class metrics.
public struct ClassificationTask: TransferTask {
    public init() {}
    public var kind: TaskKind { .classification }

    public func outputCount(classNames: [String]) -> Int { classNames.count }

    public func loss(_ outputs: Tensor, targets: BatchTargets, labelSmoothing: Float) throws -> Tensor {
        try outputs.crossEntropy(labels: IndexTensor(classes(targets)), labelSmoothing: labelSmoothing)
    }

    public func scores(_ outputs: Tensor) throws -> Tensor { try outputs.softmax() }

    public var metricName: String { "acc" }

    /// Accuracy.
    public func metric(_ outputs: Tensor, targets: BatchTargets) throws -> Double {
        let labels = try classes(targets)
        let correct = zip(try outputs.argmax(axis: 1).values, labels).filter { Int($0) == $1 }.count
        return Double(correct) / Double(max(labels.count, 1))
    }

    public func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport {
        let best = ItemPredictions.mostProbable(scores, columnLabels: nil)
        return try ClassificationReport(truth: truth, predicted: best.labels, probabilities: scores, trainedClasses: trainedClasses)
    }

    /// Logistic regression, C by cross-validation; nil unless every class has examples.
    public func probe(_ x: FeatureMatrix, targets: BatchTargets, outputs: Int, seed: UInt64) throws -> ProbeFit? {
        let labels = try classes(targets)
        guard !labels.isEmpty, Set(labels) == Set(0..<outputs) else { return nil }
        let fit = try HeadChoice.logisticRegression().fit(x, labels: labels, seed: seed)
        guard fit.head.classes == Array(0..<outputs) else { return nil }
        return ProbeFit(fit.head, regularisation: fit.head.C)
    }

    private func classes(_ targets: BatchTargets) throws -> [Int] {
        guard case let .classes(labels) = targets else {
            throw TransferError.unsupported("classification needs a class index per item, but the batch carries \(targets.describedKind)")
        }
        return labels
    }
}

extension TaskKind {
    /// The task implementation of a recorded kind, with what its manifest recorded (thresholds, loss).
    public func task(manifest: BundleManifest? = nil) -> any TransferTask {
        switch self {
        case .classification: ClassificationTask()
        case .regression: RegressionTask(targets: manifest?.classNames, loss: manifest?.notes["loss"].flatMap(RegressionLoss.init(rawValue:)) ?? .mse)
        case .multiLabel: MultiLabelTask(labels: manifest?.classNames, thresholds: manifest?.headThresholds)
        case .detection: DetectionTask(classNames: manifest?.classNames ?? [])
        }
    }

    /// The task implementation of a recorded kind.
    public var task: any TransferTask { task() }
}
