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
        SIGTERM or SIGINT stops accepting connections, finishes requests in flight, then exits. See docs/SERVING.md.
        """)

    @Option(help: "The bundle directory (bundle.json + weights).")
    var bundle: String
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
    @Option(name: .customLong("decode-timeout-ms"), help: "Longest image decode + preprocess, in milliseconds (422 after).")
    var decodeTimeoutMs = 2000

    func validate() throws {
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard queue >= 1 else { throw ValidationError("--queue must be at least 1") }
        guard batchWaitMs >= 0 else { throw ValidationError("--batch-wait-ms cannot be negative") }
        guard maxBodyMB > 0 else { throw ValidationError("--max-body-mb must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
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
        let server = try PredictionServer(bundle: URL(fileURLWithPath: bundle), options: options)
        let m = server.classifier.manifest
        let summary = "\(m.input.rawValue) bundle \(bundle) (\(m.strategy), \(m.model), \(m.classNames.count) classes)"
        try await server.run { bound in
            FileHandle.standardError.write(Data("graft serve: \(summary) on http://\(host):\(bound) (pid \(getpid()))\n".utf8))
        }
        FileHandle.standardError.write(Data("graft serve: stopped\n".utf8))
    }
}
