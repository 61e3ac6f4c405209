import Foundation
import GraftTransfer
import Hummingbird

/// A trained bundle behind an HTTP API (Hummingbird 2):
///
/// - `POST /v1/predict`: an image body (`image/jpeg`, `image/png`,
///   `application/octet-stream`; `?top=k`) or JSON `{"text": ...}` /
///   `{"texts": [...]}` (optional `"top"`); answers the top-k labels with
///   probabilities.
/// - `GET /v1/model`: the bundle's manifest and the serving limits.
/// - `GET /healthz`, `GET /metrics` (Prometheus text).
///
/// Every error is JSON `{"error": "..."}`. Inference runs on one
/// `InferenceWorker` thread that batches concurrent requests.
///
/// ```swift
/// let server = try PredictionServer(bundle: url, options: options)
/// try await server.run()   // until SIGTERM/SIGINT, then drains in-flight requests
/// ```
public struct PredictionServer: Sendable {
    public let classifier: TrainedClassifier
    public let options: ServeOptions
    public let metrics: ServeMetrics
    public let worker: InferenceWorker

    public init(classifier: TrainedClassifier, options: ServeOptions = ServeOptions()) {
        self.classifier = classifier
        self.options = options
        metrics = ServeMetrics()
        worker = InferenceWorker(classifier: classifier, options: options, metrics: metrics)
    }

    public init(bundle: URL, options: ServeOptions = ServeOptions()) throws {
        self.init(classifier: try TrainedClassifier(bundle: bundle), options: options)
    }

    /// The application: HTTP server plus the inference worker as a service that stops after the server has drained.
    /// - Parameter onServerRunning: called with the bound port once the server listens (useful with port 0).
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<ServeResponder<RouterResponder<BasicRequestContext>>> {
        Application(responder: ServeResponder(inner: router().buildResponder(), metrics: metrics),
                    configuration: .init(address: .hostname(options.host, port: options.port), serverName: "graft"),
                    services: [worker],
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? options.port) })
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, finishes requests in flight, and returns.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onServerRunning: onServerRunning).runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/v1/predict") { request, _ in try await predict(request) }
        router.get("/v1/model") { _, _ in JSONBody.response(ModelInfo(classifier: classifier, options: options)) }
        router.get("/healthz") { _, _ in JSONBody.response(["status": "ok"]) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        return router
    }

    func predict(_ request: Request) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > options.maxBodyBytes {
            throw ServeError.tooLarge("body of \(length) bytes exceeds the limit of \(options.maxBodyBytes) bytes")
        }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: options.maxBodyBytes) } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw ServeError.tooLarge("body exceeds the limit of \(options.maxBodyBytes) bytes")
        }
        var query: Int?
        if let t = request.uri.queryParameters["top"] {
            guard let v = Int(t) else { throw ServeError.badRequest("top must be an integer (got \(t))") }
            query = v
        }
        let parsed = try await PredictRequest.parse(contentType: request.headers[.contentType], body: body, query: query,
                                                    classifier: classifier, options: options)
        let results = try await worker.predict(parsed.input, top: parsed.top)
        let model = classifier.manifest.model
        switch parsed.shape {
        case .single: return JSONBody.response(SinglePrediction(model: model, predictions: results.first ?? []))
        case .many: return JSONBody.response(ManyPredictions(model: model, predictions: results))
        }
    }
}

struct SinglePrediction: Encodable {
    var model: String
    var predictions: [LabelScore]
}

struct ManyPredictions: Encodable {
    var model: String
    var predictions: [[LabelScore]]
}

/// `GET /v1/model`: what is served and under which limits.
struct ModelInfo: Encodable {
    struct Limits: Encodable {
        var maxBatch: Int
        var maxBatchWaitMilliseconds: Double
        var queueCapacity: Int
        var maxBodyBytes: Int
        var maxImagePixels: Int
        var decodeTimeoutMilliseconds: Double
        var maxTextsPerRequest: Int
        var maxTop: Int
    }

    var bundle: String
    var manifest: BundleManifest
    var inputSize: Int?
    var limits: Limits

    init(classifier: TrainedClassifier, options o: ServeOptions) {
        bundle = classifier.url.lastPathComponent
        manifest = classifier.manifest
        inputSize = classifier.input == .image ? classifier.preprocessing?.inputSize : nil
        limits = Limits(maxBatch: o.maxBatch, maxBatchWaitMilliseconds: InferenceWorker.seconds(o.maxBatchWait) * 1000,
                        queueCapacity: o.queueCapacity, maxBodyBytes: o.maxBodyBytes, maxImagePixels: o.maxImagePixels,
                        decodeTimeoutMilliseconds: InferenceWorker.seconds(o.decodeTimeout) * 1000,
                        maxTextsPerRequest: o.maxTextsPerRequest, maxTop: o.maxTop)
    }
}
