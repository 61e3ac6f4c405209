import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor

/// Object detection: a YOLO network's new heads predict boxes of the data's classes. Outputs are the
/// heads' raw maps flattened per item (`YoloLayout`); the loss is `YoloLoss` (Darknet's anchor
/// assignment, 1 - GIoU, objectness and class BCE) against each item's boxes (`BatchTargets.boxes`);
/// the metric is COCO mAP@0.5 of the decoded, NMS'd boxes (`DetectionEvaluation`), so early stopping
/// and the best epoch follow validation mAP@0.5. The task reads its layout from the network it trains
/// or scores (`attached(to:)`).
public struct DetectionTask: TransferTask {
    /// The object classes, in output order.
    public var classNames: [String]
    /// Set by `attached(to:)` from the YOLO network.
    public var layout: YoloLayout?
    /// Boxes scored for mAP: every one above this score (Darknet's `validate_detector_map` uses 0.005).
    public var scoreThreshold: Float = 0.005
    public var iouThreshold: Float = 0.45
    /// The square input side the detector trains at (nil: the backbone's; the cfg's 416 by default).
    public var inputSize: Int?

    public init(classNames: [String], inputSize: Int? = nil, layout: YoloLayout? = nil) {
        self.classNames = classNames; self.inputSize = inputSize; self.layout = layout
    }

    /// The named detector or the zoo's `yolov3-tiny`, at `inputSize` when set.
    public func backboneSpec(_ named: BackboneSpec?) throws -> BackboneSpec? {
        var spec = try named ?? .detector()
        if let inputSize { spec.inputSize = inputSize }
        return spec
    }

    public var kind: TaskKind { .detection }
    /// The classes: a detection backbone's `network(outputs:)` reads this as its heads' class count.
    public func outputCount(classNames: [String]) -> Int { classNames.count }

    public func attached(to network: TaskNetwork) throws -> any TransferTask {
        guard let yolo = network as? YoloTaskNetwork else {
            throw TransferError.unsupported("--task detect needs a YOLO backbone (yolov3-tiny); \(network.backbone.spec.model) predicts one vector per item")
        }
        var task = self
        task.layout = yolo.layout
        return task
    }

    func requireLayout() throws -> YoloLayout {
        guard let layout else { throw TransferError.unsupported("the detection task has not been attached to a YOLO network") }
        return layout
    }

    func requireBoxes(_ targets: BatchTargets, rows: Int) throws -> [[LabeledBox]] {
        guard case let .boxes(b) = targets else {
            throw TransferError.unsupported("detection needs the objects of each image, but the batch carries \(targets.describedKind) "
                + "(give --data a YOLO folder: images/, labels/, classes.txt, or a COCO JSON)")
        }
        guard b.count == rows else { throw TransferError.unsupported("\(rows) outputs but objects for \(b.count) images") }
        return b
    }

    public func loss(_ outputs: Tensor, targets: BatchTargets, labelSmoothing: Float) throws -> Tensor {
        let layout = try requireLayout()
        let objects = try requireBoxes(targets, rows: outputs.shape[0])
        let (w, h) = (Float(layout.inputWidth), Float(layout.inputHeight))
        let pixels = objects.map { list in
            list.map { o in
                DetectionTarget(classIndex: o.classIndex, centerX: (o.box.x + o.box.width / 2) * w, centerY: (o.box.y + o.box.height / 2) * h,
                                width: o.box.width * w, height: o.box.height * h)
            }
        }
        let loss = YoloLoss(heads: layout.heads, inputWidth: layout.inputWidth, inputHeight: layout.inputHeight)
        return try loss(layout.maps(outputs), targets: pixels).total
    }

    /// The raw maps themselves: boxes are decoded by `detections` and the metrics.
    public func scores(_ outputs: Tensor) throws -> Tensor { outputs }

    public var metricName: String { "map50" }

    public func metric(_ outputs: Tensor, targets: BatchTargets) throws -> Double {
        try evaluate(rows: outputs.shape[0], width: outputs.shape[1], values: outputs.values, targets: targets).map50
    }

    public func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport {
        throw TransferError.unsupported("a detector has no single-label report: its metrics are mAP (DetectionMetrics)")
    }

    public func metrics(scores: FeatureMatrix, targets: BatchTargets) throws -> TaskMetrics? {
        let report = try evaluate(rows: scores.rows, width: scores.columns, values: scores.values, targets: targets)
        return .detection(DetectionMetrics(report, classNames: classNames, images: scores.rows))
    }

    /// A detector's head is not linear: no probe.
    public func probe(_ x: FeatureMatrix, targets: BatchTargets, outputs: Int, seed: UInt64) throws -> ProbeFit? { nil }

    /// Each output row's boxes (relative to the input, after NMS) above `threshold`.
    public func detections(_ values: [Float], rows: Int, threshold: Float, iouThreshold: Float? = nil) throws -> [[YoloCandidate]] {
        let layout = try requireLayout()
        let width = layout.rowWidth
        guard values.count == rows * width else { throw TransferError.unsupported("\(values.count) output values for \(rows) rows of \(width)") }
        return try (0..<rows).map {
            try layout.detections(row: values[($0 * width)..<(($0 + 1) * width)], threshold: threshold, iouThreshold: iouThreshold ?? self.iouThreshold)
        }
    }

    /// COCO evaluation of output rows against each item's objects, in input pixels.
    func evaluate(rows: Int, width: Int, values: [Float], targets: BatchTargets) throws -> DetectionEvaluation.Report {
        let layout = try requireLayout()
        let truth = try requireBoxes(targets, rows: rows)
        let found = try detections(values, rows: rows, threshold: scoreThreshold)
        let (w, h) = (Double(layout.inputWidth), Double(layout.inputHeight))
        var objects: [DetectionEvaluation.Object] = [], predictions: [DetectionEvaluation.Prediction] = []
        for (image, list) in truth.enumerated() {
            for o in list {
                objects.append(.init(image: image, classID: o.classIndex, box: .init(x: Double(o.box.x) * w, y: Double(o.box.y) * h,
                                                                                     width: Double(o.box.width) * w, height: Double(o.box.height) * h)))
            }
        }
        for (image, list) in found.enumerated() {
            for c in list {
                predictions.append(.init(image: image, classID: c.classIndex, score: Double(c.score),
                                         box: .init(x: Double(c.centerX - c.width / 2) * w, y: Double(c.centerY - c.height / 2) * h,
                                                    width: Double(c.width) * w, height: Double(c.height) * h)))
            }
        }
        return DetectionEvaluation.evaluate(objects: objects, predictions: predictions)
    }
}
