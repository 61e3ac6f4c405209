import ArgumentParser
import Foundation
import GraftServe
import Graft
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
import GraftWeights

/// `graft serve --bundle BUNDLE`: a trained bundle behind an HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a trained bundle over HTTP: POST /v1/predict, GET /v1/model, /healthz, /metrics.",
        discussion: """
        POST /v1/predict takes an image body (image/jpeg, image/png or application/octet-stream; ?top=K) for image \
        bundles, or JSON {"text": "..."} / {"texts": ["...", ...]} (optional "top") for text bundles, and answers \
        the top-K labels with probabilities. Concurrent requests are batched through one inference thread. \
        SIGTERM or SIGINT stops accepting connections, finishes requests in flight (at most --shutdown-grace-s), \
        then exits. Slow clients are cut off by the idle, header and body read timeouts. See docs/SERVING.md.
        """)

    @Option(help: "The bundle directory (bundle.json + weights).")
    var bundle: String
    @Option(help: ModelArguments.bundlePrecisionHelp)
    var precision: Precision?
    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080
    @Option(name: .customLong("max-batch"), help: "Most inputs per model forward pass.")
    var maxBatch = 16
    @Option(name: .customLong("batch-wait-ms"), help: "Longest wait for more requests to fill a batch, in milliseconds.")
    var batchWaitMs = 5.0
    @Option(name: .customLong("queue"), help: "Most inputs waiting for the model before requests get 503.")
    var queue = 256
    @Option(name: .customLong("max-body-mb"), help: "Largest request body, in MiB (413 above).")
    var maxBodyMB = 8.0
    @Option(help: "Also serve POST /v1/detect with this detector: a zoo model (e.g. yolov3-tiny), a detector file from `graft quantize`, or a detection bundle folder.")
    var detect: String?
    @Option(name: .customLong("detect-precision"), help: "What the detector computes in: fp32, bf16 on CPUs with AVX-512 bf16, or int8 for a --detect file from `graft quantize`.")
    var detectPrecision: Precision = .fp32
    @Option(name: .customLong("decode-timeout-ms"), help: "Longest image decode + preprocess, in milliseconds (422 after).")
    var decodeTimeoutMs = 2000
    @Option(name: .customLong("max-decodes"), help: "Most images decoded at once (default: the number of cores, at least 2).")
    var maxDecodes: Int?
    @Option(name: .customLong("decode-memory-mb"), help: "Most MiB of decoded pixels in flight; larger images wait (413 if one alone needs more).")
    var decodeMemoryMB = 512.0
    @Option(name: .customLong("idle-timeout-s"), help: "Close a connection idle for this many seconds.")
    var idleTimeoutS = 60.0
    @Option(name: .customLong("header-timeout-s"), help: "Close a connection whose request head is not complete this many seconds after its first byte.")
    var headerTimeoutS = 10.0
    @Option(name: .customLong("body-timeout-s"), help: "Close a connection whose request body is not complete this many seconds after its head.")
    var bodyTimeoutS = 30.0
    @Option(name: .customLong("shutdown-grace-s"), help: "After SIGTERM/SIGINT, seconds requests in flight may take before connections are closed.")
    var shutdownGraceS = 10.0

    func validate() throws {
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard queue >= 1 else { throw ValidationError("--queue must be at least 1") }
        guard batchWaitMs >= 0 else { throw ValidationError("--batch-wait-ms cannot be negative") }
        guard maxBodyMB > 0 else { throw ValidationError("--max-body-mb must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard decodeTimeoutMs > 0 else { throw ValidationError("--decode-timeout-ms must be positive") }
        guard (maxDecodes ?? 1) >= 1 else { throw ValidationError("--max-decodes must be at least 1") }
        guard decodeMemoryMB > 0 else { throw ValidationError("--decode-memory-mb must be positive") }
        for (name, v) in [("--idle-timeout-s", idleTimeoutS), ("--header-timeout-s", headerTimeoutS), ("--body-timeout-s", bodyTimeoutS)] {
            guard v > 0 else { throw ValidationError("\(name) must be positive") }
        }
        guard shutdownGraceS >= 0 else { throw ValidationError("--shutdown-grace-s cannot be negative") }
    }

    /// A zoo detector by name, a quantized detector file, or the fine-tuned detector of a detection bundle folder
    /// (`graft finetune --task detect`), checked to run in `precision`.
    static func detector(_ name: String, precision: Precision) throws -> YoloDetector {
        try ObjectDetector.requireSupport(precision)
        var isFolder: ObjCBool = false
        let detector = FileManager.default.fileExists(atPath: name, isDirectory: &isFolder) && isFolder.boolValue
            ? try TrainedModel(bundle: URL(fileURLWithPath: name)).detector() : try YoloDetector.named(name)
        if precision == .int8 { try ObjectDetector.requireCalibration(detector) }
        return detector
    }

    func run() async throws {
        var options = ServeOptions()
        options.host = host
        options.port = port
        options.maxBatch = maxBatch
        options.maxBatchWait = .microseconds(Int64(batchWaitMs * 1000))
        options.queueCapacity = queue
        options.maxBodyBytes = Int(maxBodyMB * 1024 * 1024)
        options.decodeTimeout = .milliseconds(decodeTimeoutMs)
        if let maxDecodes { options.maxConcurrentDecodes = maxDecodes }
        options.decodeMemoryBytes = Int(decodeMemoryMB * 1024 * 1024)
        options.idleTimeout = .milliseconds(Int64(idleTimeoutS * 1000))
        options.headerTimeout = .milliseconds(Int64(headerTimeoutS * 1000))
        options.bodyTimeout = .milliseconds(Int64(bodyTimeoutS * 1000))
        options.shutdownGrace = .milliseconds(Int64(shutdownGraceS * 1000))
        var server = try PredictionServer(bundle: URL(fileURLWithPath: bundle), options: options, precision: precision)
        if let detect {
            server.detection = DetectRoute(detector: try Self.detector(detect, precision: detectPrecision), name: detect,
                                           options: options, precision: detectPrecision)
        }
        let m = server.classifier.manifest
        let summary = "\(m.input.rawValue) bundle \(bundle) (\(m.strategy), \(m.model), \(m.classNames.count) classes, \(server.classifier.precision))"
        try await server.run { bound in
            FileHandle.standardError.write(Data("graft serve: \(summary) on http://\(host):\(bound) (pid \(getpid()))\n".utf8))
        }
        FileHandle.standardError.write(Data("graft serve: stopped\n".utf8))
    }
}
