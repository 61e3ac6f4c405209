import ArgumentParser
import Foundation
import Graft
import GraftData
import GraftModels
import GraftTransfer

/// `graft detect`: boxes from a pretrained detector (YOLOv3-tiny on COCO by default).
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect",
        abstract: "Objects in images: labelled boxes from a pretrained YOLO (JSON, or annotated PNGs with --draw).")

    @Option(help: "Detection model from the zoo (see `graft models`), or a detector file written by `graft quantize` (run with --precision int8).")
    var model: String = "yolov3-tiny"
    @Option(help: "A detection bundle made by `graft finetune --task detect` instead of a zoo model.")
    var bundle: String?
    @Option(help: "A Darknet .cfg instead of a zoo model (with --weights and --names).")
    var cfg: String?
    @Option(help: "Darknet .weights for --cfg.")
    var weights: String?
    @Option(help: "Class names for --cfg, one per line.")
    var names: String?
    @Option(help: "Report boxes whose objectness x class probability exceeds this.")
    var threshold: Float = 0.25
    @Option(help: "Suppress same-class boxes overlapping a better one by more than this IoU.")
    var iou: Float = 0.45
    @Option(help: "Images per forward pass.")
    var batchSize: Int = 8
    @Option(help: "What the network's convolutions compute in: fp32, bf16 on CPUs with AVX-512 bf16, or int8 for a --model file from `graft quantize` (docs/PRECISION.md).")
    var precision: Precision = .fp32
    @Flag(help: "JSON output: one object per input with its boxes (label, score, x, y, w, h in pixels).")
    var json = false
    @Option(help: "Write each image with its boxes drawn to this folder (PNG, named after the input).")
    var draw: String?
    @Argument(help: "Image files (JPEG or PNG).")
    var images: [String]

    func validate() throws {
        guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be within 0...1") }
        guard (0...1).contains(iou) else { throw ValidationError("--iou must be within 0...1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard (cfg == nil) == (weights == nil), (cfg == nil) == (names == nil) else {
            throw ValidationError("--cfg, --weights and --names go together")
        }
        guard bundle == nil || cfg == nil else { throw ValidationError("--bundle and --cfg name two detectors: give one") }
    }

    func run() throws {
        try ObjectDetector.requireSupport(precision)   // before loading weights
        let detector: ObjectDetector
        if let bundle {
            detector = try ObjectDetector(bundle: URL(fileURLWithPath: bundle), threshold: threshold, iouThreshold: iou)
        } else if let cfg, let weights, let names {
            detector = try ObjectDetector(cfg: URL(fileURLWithPath: cfg), weights: URL(fileURLWithPath: weights),
                                          names: URL(fileURLWithPath: names), threshold: threshold, iouThreshold: iou)
        } else {
            detector = try ObjectDetector(model: model, threshold: threshold, iouThreshold: iou)
        }
        detector.precision = precision
        if precision == .int8 { try ObjectDetector.requireCalibration(detector.detector) }   // before decoding images
        let drawDirectory = draw.map { URL(fileURLWithPath: $0) }
        if let drawDirectory { try FileManager.default.createDirectory(at: drawDirectory, withIntermediateDirectories: true) }

        // Decode everything first: an unreadable input is reported, the others still run.
        var decoded: [(path: String, image: RGBImage)] = []
        var errors: [String: String] = [:]
        for path in images {
            do { decoded.append((path, try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: path)))) }
            catch { errors[path] = "\(error)" }
        }
        var found: [String: [Detection]] = [:]
        for start in stride(from: 0, to: decoded.count, by: batchSize) {
            let chunk = Array(decoded[start..<min(start + batchSize, decoded.count)])
            for (item, detections) in zip(chunk, try detector.detect(chunk.map(\.image))) { found[item.path] = detections }
        }
        var usedNames = Set<String>()
        for item in decoded {
            guard let drawDirectory, let detections = found[item.path] else { continue }
            var stem = URL(fileURLWithPath: item.path).deletingPathExtension().lastPathComponent
            let base = stem
            var n = 2
            while usedNames.contains(stem) { stem = "\(base)-\(n)"; n += 1 }
            usedNames.insert(stem)
            let annotated = ObjectDetector.annotate(item.image, detections)
            guard let png = PNGEncoder.encode(annotated) else { errors[item.path] = "cannot encode the annotated PNG"; continue }
            do { try png.write(to: drawDirectory.appendingPathComponent(stem + ".png"), options: .atomic) }
            catch { errors[item.path] = "cannot write \(stem).png: \(error.localizedDescription)" }
        }

        if json {
            let results: [DetectResult] = images.map { path in
                DetectResult(input: path, error: errors[path], detections: errors[path] == nil ? found[path]?.map(DetectBox.init) : nil)
            }
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(results), as: UTF8.self))
        } else {
            for path in images {
                print(path)
                if let e = errors[path] { print("  error: \(e)"); continue }
                for d in found[path] ?? [] {
                    print(String(format: "  %5.1f%%  %@  x %.0f y %.0f w %.0f h %.0f", d.score * 100, d.label,
                                 d.box.x, d.box.y, d.box.width, d.box.height))
                }
            }
        }
        if !errors.isEmpty {
            FileHandle.standardError.write(Data("\(errors.count) of \(images.count) inputs failed\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// One input's line of `graft detect --json`.
struct DetectResult: Encodable {
    let input: String
    let error: String?
    let detections: [DetectBox]?
}

/// A box as `graft detect --json` and `POST /v1/detect` write it: pixels, top-left corner.
struct DetectBox: Encodable {
    let label: String, score: Float, x: Float, y: Float, w: Float, h: Float
    init(_ d: Detection) {
        label = d.label; score = d.score; x = d.box.x; y = d.box.y; w = d.box.width; h = d.box.height
    }
}
