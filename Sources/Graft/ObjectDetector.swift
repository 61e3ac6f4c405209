import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftTransfer

/// Finds objects in images with a pretrained detector: labelled boxes in the image's own pixels.
///
/// ```swift
/// let detector = try ObjectDetector()                       // YOLOv3-tiny, COCO's 80 classes
/// for d in try detector.detect(contentsOf: photo) { print(d.label, d.score, d.box) }
/// ```
/// Images are letterboxed to the network input as Darknet does, EXIF orientation is applied when
/// decoding, and boxes are mapped back to (and clipped to) the original image.
public final class ObjectDetector: @unchecked Sendable {  // unchecked: thresholds are settings set before use; detection only reads the network
    public let detector: YoloDetector
    /// A box is reported when objectness x class probability exceeds this.
    public var threshold: Float
    /// Same-class boxes overlapping a better one by more than this are suppressed.
    public var iouThreshold: Float
    /// What the network's convolutions compute in: fp32 (the default), bf16 on CPUs with AVX-512 bf16, or int8 for a
    /// detector quantized by `graft quantize --model yolov3-tiny` (docs/PRECISION.md; `init(model:)` takes its file).
    public var precision: Precision = .fp32

    public init(_ detector: YoloDetector, threshold: Float = 0.25, iouThreshold: Float = 0.45) {
        self.detector = detector
        self.threshold = threshold
        self.iouThreshold = iouThreshold
    }

    /// A zoo detector by name (`graft models` lists them; set-up installs them), or the path of a detector file
    /// written by `graft quantize` (run it with `precision = .int8`).
    public convenience init(model: String = "yolov3-tiny", threshold: Float = 0.25, iouThreshold: Float = 0.45) throws {
        self.init(try YoloDetector.named(model), threshold: threshold, iouThreshold: iouThreshold)
    }

    /// A Darknet cfg, its weights and a names file (one class per line).
    public convenience init(cfg: URL, weights: URL, names: URL, threshold: Float = 0.25, iouThreshold: Float = 0.45) throws {
        self.init(try YoloDetector(cfg: cfg, weights: weights, names: names), threshold: threshold, iouThreshold: iouThreshold)
    }

    /// A detector fine-tuned by Graft (`graft finetune --task detect`, a `TransferJob` with `DetectionTask`), from its bundle.
    public convenience init(bundle: URL, threshold: Float = 0.25, iouThreshold: Float = 0.45) throws {
        self.init(try TrainedModel(bundle: bundle).detector(), threshold: threshold, iouThreshold: iouThreshold)
    }

    public var labels: [String] { detector.labels }

    /// Detections per image, by decreasing score (one forward for the whole batch).
    public func detect(_ images: [RGBImage]) throws -> [[Detection]] {
        try Self.requireSupport(precision)
        if precision == .int8 { try Self.requireCalibration(detector) }
        return try withPrecision(precision) { try detector.detect(images, threshold: threshold, iouThreshold: iouThreshold) }
    }

    /// Throws `KernelError.unsupportedPrecision` unless a detector can run in `precision` on this CPU.
    public static func requireSupport(_ precision: Precision) throws {
        try precision.requireSupport()
    }

    /// Throws `KernelError.unsupportedPrecision` unless `detector` carries an int8 calibration (what int8 needs).
    public static func requireCalibration(_ detector: YoloDetector) throws {
        guard Int8Quantization.isCalibrated(detector.network) else {
            throw KernelError.unsupportedPrecision(precision: .int8, reason: "this detector has no int8 calibration: make a quantized "
                + "copy with `graft quantize --model yolov3-tiny --data DATA --out FILE.safetensors` and run "
                + "`graft detect --model FILE.safetensors --precision int8` (a fine-tuned detector: "
                + "`graft quantize --bundle BUNDLE --data DATA --out QUANTIZED`, then `--bundle QUANTIZED`)")
        }
    }

    public func detect(_ image: RGBImage) throws -> [Detection] { try detect([image])[0] }

    /// Decodes a JPEG or PNG (EXIF orientation applied) and detects in it.
    public func detect(contentsOf url: URL) throws -> [Detection] {
        try detect(ImageDecoder().decode(contentsOf: url))
    }

    /// The image with each detection drawn as a coloured box labelled "label 0.87".
    public static func annotate(_ image: RGBImage, _ detections: [Detection]) -> RGBImage {
        detections.reversed().reduce(image) { im, d in
            im.drawing(box: d.box, label: "\(d.label) \(String(format: "%.2f", d.score))", color: RGBImage.boxColor(d.classIndex))
        }
    }
}
