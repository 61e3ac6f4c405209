import Foundation
import GraftData
import GraftModels
import GraftTensor
import Hummingbird

/// `POST /v1/detect`: an image body (`image/jpeg`, `image/png`, `application/octet-stream`;
/// optional `?threshold=` and `?iou=`) answered with the objects a detector finds:
/// `{"model": ..., "width": W, "height": H, "detections": [{"label", "score", "x", "y", "w", "h"}]}`
/// in the image's pixels. The limits and errors are `/v1/predict`'s: 413 above the body or pixel
/// limit, 415 for another content type, 422 for an undecodable image or a decode past the timeout.
/// Forwards run one at a time (the convolutions use every core already).
public struct DetectRoute: Sendable {
    public let detector: YoloDetector
    public let name: String
    /// What the detector's convolutions compute in (int8 needs a detector quantized by `graft quantize`).
    public let precision: Precision
    let options: ServeOptions
    private let gate = DetectGate()
    /// Decodes run on the decode gate's threads, bounded by count and by decoded bytes, with a real deadline.
    private let decodes: DecodeGate

    public init(detector: YoloDetector, name: String, options: ServeOptions, precision: Precision = .fp32) {
        self.detector = detector; self.name = name; self.options = options; self.precision = precision
        decodes = DecodeGate(maxConcurrent: options.maxConcurrentDecodes, memoryBudget: options.decodeMemoryBytes)
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/detect") { request, _ in try await detect(request) }
    }

    struct Box: Encodable { var label: String; var score: Float; var x: Float; var y: Float; var w: Float; var h: Float }
    struct Answer: Encodable { var model: String; var width: Int; var height: Int; var detections: [Box] }

    func detect(_ request: Request) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > options.maxBodyBytes {
            throw ServeError.tooLarge("body of \(length) bytes exceeds the limit of \(options.maxBodyBytes) bytes")
        }
        let media = request.headers[.contentType].map { $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "" } ?? ""
        guard PredictRequest.imageTypes.contains(media) else {
            throw ServeError.unsupportedMediaType("send the image as image/jpeg, image/png or application/octet-stream (got \(media.isEmpty ? "no Content-Type" : media))")
        }
        func unit(_ key: String, _ fallback: Float) throws -> Float {
            guard let text = request.uri.queryParameters[Substring(key)] else { return fallback }
            guard let v = Float(String(text)), (0...1).contains(v) else { throw ServeError.badRequest("\(key) must be a number within 0...1 (got \(text))") }
            return v
        }
        let threshold = try unit("threshold", 0.25), iou = try unit("iou", 0.45)
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: options.maxBodyBytes) } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw ServeError.tooLarge("body exceeds the limit of \(options.maxBodyBytes) bytes")
        }
        let bytes = Array(body.readableBytesView)
        guard !bytes.isEmpty else { throw ServeError.badRequest("empty body: send the image bytes") }
        let deadline = ContinuousClock.now + options.decodeTimeout
        var cost = DecodeGate.cost(width: 0, height: 0, side: detector.inputWidth, bodyBytes: bytes.count) * 2
        if let d = ImageHeader.dimensions(bytes) {
            let (pixels, overflow) = d.width.multipliedReportingOverflow(by: d.height)
            if overflow || pixels > options.maxImagePixels {
                throw ServeError.tooLarge("image of \(d.width)x\(d.height) pixels exceeds the limit of \(options.maxImagePixels) pixels")
            }
            cost = DecodeGate.cost(width: d.width, height: d.height, side: detector.inputWidth, bodyBytes: bytes.count)
        }
        let limit = "\(Int(InferenceWorker.seconds(options.decodeTimeout) * 1000)) ms"
        let image = try await decodes.run(cost: cost, deadline: deadline, limitDescription: limit) { () throws -> RGBImage in
            let decoded = Result { () throws(ImageError) -> RGBImage in try ImageDecoder().decode(Data(bytes), source: "request body") }
            switch decoded {
            case .success(let image): return image
            case .failure(let error):
                switch error {
                case .unsupportedFormat: throw ServeError.unsupportedMediaType("\(error)")
                case .tooLarge: throw ServeError.tooLarge("\(error)")
                default: throw ServeError.unprocessable("\(error)")
                }
            }
        }
        let detector = self.detector, precision = self.precision
        let found = try await gate.run {
            try withPrecision(precision) { try detector.detect([image], threshold: threshold, iouThreshold: iou)[0] }
        }
        return JSONBody.response(Answer(model: name, width: image.width, height: image.height, detections: found.map {
            Box(label: $0.label, score: $0.score, x: $0.box.x, y: $0.box.y, w: $0.box.width, h: $0.box.height)
        }))
    }
}

/// Runs detections one at a time on a GCD thread, off the event loop.
final class DetectGate: Sendable {
    private let queue = DispatchQueue(label: "graft.detect")

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
