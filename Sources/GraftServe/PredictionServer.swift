import Foundation
import GraftTransfer
import Hummingbird
import HummingbirdCore
import NIOCore
import ServiceLifecycle
import UnixSignals

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
/// `InferenceWorker` thread that batches concurrent requests; image decodes
/// run through a `DecodeGate` (bounded by count and by memory, each request
/// answered within `decodeTimeout`). Connections have idle, header and body
/// read deadlines (`ConnectionDeadlines`), and shutdown is bounded by
/// `shutdownGrace`.
///
/// ```swift
/// let server = try PredictionServer(bundle: url, options: options)
/// try await server.run()   // until SIGTERM/SIGINT, then drains in-flight requests
/// ```
// Unchecked: `TrainedModel` is not Sendable; the server only reads its manifest, and every
// prediction runs on the one `InferenceWorker` thread.
public struct PredictionServer: @unchecked Sendable {
    public let classifier: TrainedClassifier
    public let options: ServeOptions
    public let metrics: ServeMetrics
    public let worker: InferenceWorker
    /// `POST /v1/detect`, when a detector is served beside the bundle (`graft serve --detect MODEL`).
    public var detection: DetectRoute?
    let decodes: DecodeGate

    public init(classifier: TrainedClassifier, options: ServeOptions = ServeOptions()) {
        self.classifier = classifier
        self.options = options
        metrics = ServeMetrics()
        worker = InferenceWorker(classifier: classifier, options: options, metrics: metrics)
        let decodes = DecodeGate(maxConcurrent: options.maxConcurrentDecodes, memoryBudget: options.decodeMemoryBytes)
        self.decodes = decodes
        metrics.decodeBytes = { decodes.inFlight.bytes }
    }

    /// `precision`: what the backbone computes in (nil: what the bundle's head was fitted with).
    public init(bundle: URL, options: ServeOptions = ServeOptions(), precision: Precision? = nil) throws {
        self.init(classifier: try TrainedClassifier(bundle: bundle, precision: precision), options: options)
    }

    /// The application: HTTP server plus the inference worker as a service that stops after the server has drained.
    /// - Parameter onServerRunning: called with the bound port once the server listens (useful with port 0).
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<ServeResponder<RouterResponder<BasicRequestContext>>> {
        let limits = ConnectionDeadlines.Limits(idle: Self.timeAmount(options.idleTimeout), header: Self.timeAmount(options.headerTimeout),
                                                body: Self.timeAmount(options.bodyTimeout))
        let metrics = metrics
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionDeadlines(limits: limits, onTimeout: { metrics.recordConnectionTimeout($0) })])
        return Application(responder: ServeResponder(inner: router().buildResponder(), metrics: metrics),
                    server: .http1(configuration: http1),
                    configuration: .init(address: .hostname(options.host, port: options.port), serverName: "graft"),
                    services: [worker],
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? options.port) })
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, finishes requests in flight, and returns;
    /// requests still running after `shutdownGrace` are cut off (their connections closed).
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = application(onServerRunning: onServerRunning)
        try await ServiceGroup(configuration: serviceGroupConfiguration(app, signals: [.sigterm, .sigint])).run()
    }

    /// The service group that runs `app`: graceful shutdown on `signals`, escalated to
    /// cancellation after `shutdownGrace`.
    public func serviceGroupConfiguration(_ app: some ApplicationProtocol, signals: [UnixSignal]) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: signals, logger: app.logger)
        configuration.maximumGracefulShutdownDuration = options.shutdownGrace
        // No cancellation limit: ServiceLifecycle traps when one is exceeded. Cancelled, the worker
        // refuses its queue and ends after the running batch (`InferenceWorker.run`).
        configuration.maximumCancellationDuration = nil
        return configuration
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        .nanoseconds(Int64(min(InferenceWorker.seconds(d), 1e9) * 1e9))
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/v1/predict") { request, _ in try await predict(request) }
        detection?.register(on: router)
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
        } catch is ConnectionDeadlines.BodyTimeout {
            throw ServeError(.requestTimeout, "the body did not arrive within \(Int(InferenceWorker.seconds(options.bodyTimeout))) s")
        }
        var query: Int?
        if let t = request.uri.queryParameters["top"] {
            guard let v = Int(t) else { throw ServeError.badRequest("top must be an integer (got \(t))") }
            query = v
        }
        let parsed = try await PredictRequest.parse(contentType: request.headers[.contentType], body: body, query: query,
                                                    classifier: classifier, options: options, decodes: decodes)
        let served = try await worker.infer(parsed.input, top: parsed.top)
        let model = classifier.manifest.model
        if classifier.manifest.task == .regression {
            // A regression bundle answers each input with its value per target, named.
            let values = served.map { r -> [String: Float] in
                guard case let .values(v) = r else { return [:] }
                return Dictionary(uniqueKeysWithValues: zip(classifier.classNames, v))
            }
            switch parsed.shape {
            case .single: return JSONBody.response(SingleValues(model: model, values: values.first ?? [:]))
            case .many: return JSONBody.response(ManyValues(model: model, values: values))
            }
        }
        let results = served.map { r -> [LabelScore] in if case let .labels(l) = r { l } else { [] } }
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

/// A regression bundle's answer: each target's value by name.
struct SingleValues: Encodable {
    var model: String
    var values: [String: Float]
}

struct ManyValues: Encodable {
    var model: String
    var values: [[String: Float]]
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
        var maxConcurrentDecodes: Int
        var decodeMemoryBytes: Int
        var idleTimeoutSeconds: Double
        var headerTimeoutSeconds: Double
        var bodyTimeoutSeconds: Double
        var shutdownGraceSeconds: Double
    }

    var bundle: String
    var manifest: BundleManifest
    var inputSize: Int?
    /// What the backbone computes in (docs/PRECISION.md).
    var precision: Precision
    var limits: Limits

    init(classifier: TrainedClassifier, options o: ServeOptions) {
        bundle = classifier.url.lastPathComponent
        manifest = classifier.manifest
        inputSize = classifier.input == .image ? classifier.preprocessing?.inputSize : nil
        precision = classifier.precision
        limits = Limits(maxBatch: o.maxBatch, maxBatchWaitMilliseconds: InferenceWorker.seconds(o.maxBatchWait) * 1000,
                        queueCapacity: o.queueCapacity, maxBodyBytes: o.maxBodyBytes, maxImagePixels: o.maxImagePixels,
                        decodeTimeoutMilliseconds: InferenceWorker.seconds(o.decodeTimeout) * 1000,
                        maxTextsPerRequest: o.maxTextsPerRequest, maxTop: o.maxTop,
                        maxConcurrentDecodes: o.maxConcurrentDecodes, decodeMemoryBytes: o.decodeMemoryBytes,
                        idleTimeoutSeconds: InferenceWorker.seconds(o.idleTimeout), headerTimeoutSeconds: InferenceWorker.seconds(o.headerTimeout),
                        bodyTimeoutSeconds: InferenceWorker.seconds(o.bodyTimeout), shutdownGraceSeconds: InferenceWorker.seconds(o.shutdownGrace))
    }
}
