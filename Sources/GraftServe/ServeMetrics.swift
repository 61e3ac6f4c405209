import Foundation
import Synchronization

/// Counters and histograms of the server, rendered in the Prometheus text
/// format (version 0.0.4) by `GET /metrics`. Labels are bounded: routes are
/// the four known paths or "other".
public final class ServeMetrics: Sendable {
    /// Upper bounds (seconds) of the request latency histogram.
    static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Upper bounds of the model batch size histogram (inputs per forward pass).
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64]
    static let knownRoutes = ["/v1/predict", "/v1/model", "/healthz", "/metrics"]

    struct Histogram {
        var bounds: [Double]
        var counts: [Int]
        var sum = 0.0
        var count = 0
        init(_ bounds: [Double]) { self.bounds = bounds; counts = [Int](repeating: 0, count: bounds.count) }
        mutating func observe(_ v: Double) {
            for (i, b) in bounds.enumerated() where v <= b { counts[i] += 1 }
            sum += v; count += 1
        }
    }

    private struct State {
        var requests: [String: [Int: Int]] = [:]
        var latency: [String: Histogram] = [:]
        var batchSizes = Histogram(batchBuckets)
        var inference = Histogram(latencyBuckets)
        var inputs = 0
        var rejected = 0
        var queued = 0
        var connectionTimeouts: [String: Int] = [:]
        var decodeBytes: (@Sendable () -> Int)?
    }

    private let state = Mutex(State())

    /// Reads the decode gate's bytes in flight at render time.
    var decodeBytes: (@Sendable () -> Int)? {
        get { state.withLock { $0.decodeBytes } }
        set { state.withLock { $0.decodeBytes = newValue } }
    }

    public init() {}

    /// The route label of a path.
    static func route(_ path: String) -> String { knownRoutes.contains(path) ? path : "other" }

    func recordRequest(path: String, status: Int, seconds: Double) {
        let r = Self.route(path)
        state.withLock { s in
            s.requests[r, default: [:]][status, default: 0] += 1
            s.latency[r, default: Histogram(Self.latencyBuckets)].observe(seconds)
        }
    }

    func recordBatch(size: Int, seconds: Double) {
        state.withLock { s in
            s.batchSizes.observe(Double(size))
            s.inference.observe(seconds)
            s.inputs += size
        }
    }

    func recordRejection() { state.withLock { s in s.rejected += 1 } }
    /// A connection closed by a read deadline: "idle", "header" or "body".
    func recordConnectionTimeout(_ kind: String) { state.withLock { s in s.connectionTimeouts[kind, default: 0] += 1 } }
    public func connectionTimeoutCount(_ kind: String) -> Int { state.withLock { s in s.connectionTimeouts[kind] ?? 0 } }
    func setQueued(_ n: Int) { state.withLock { s in s.queued = n } }

    /// Requests answered so far with `status` on `route` (for tests and logs).
    public func requestCount(route: String, status: Int) -> Int { state.withLock { s in s.requests[route]?[status] ?? 0 } }

    /// Number of model batches run and inputs they held.
    public var batches: (count: Int, inputs: Int) { state.withLock { s in (s.batchSizes.count, s.inputs) } }

    /// The Prometheus exposition text.
    public func render() -> String {
        state.withLock { s in
            var out = "# HELP graft_http_requests_total HTTP requests answered, by route and status.\n# TYPE graft_http_requests_total counter\n"
            for r in s.requests.keys.sorted() {
                for (status, n) in (s.requests[r] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    out += "graft_http_requests_total{route=\"\(r)\",status=\"\(status)\"} \(n)\n"
                }
            }
            out += "# HELP graft_http_request_duration_seconds Time from request head to response, by route.\n# TYPE graft_http_request_duration_seconds histogram\n"
            for r in s.latency.keys.sorted() { if let h = s.latency[r] { out += Self.lines("graft_http_request_duration_seconds", h, label: "route=\"\(r)\"") } }
            out += "# HELP graft_batch_size Inputs per model forward pass.\n# TYPE graft_batch_size histogram\n"
            out += Self.lines("graft_batch_size", s.batchSizes, label: nil)
            out += "# HELP graft_inference_duration_seconds Time of one model forward pass (batch).\n# TYPE graft_inference_duration_seconds histogram\n"
            out += Self.lines("graft_inference_duration_seconds", s.inference, label: nil)
            out += "# HELP graft_inputs_total Inputs (images or texts) run through the model.\n# TYPE graft_inputs_total counter\ngraft_inputs_total \(s.inputs)\n"
            out += "# HELP graft_queue_rejections_total Requests refused with 503 because the queue was full.\n# TYPE graft_queue_rejections_total counter\ngraft_queue_rejections_total \(s.rejected)\n"
            out += "# HELP graft_queue_inputs Inputs waiting for the model.\n# TYPE graft_queue_inputs gauge\ngraft_queue_inputs \(s.queued)\n"
            out += "# HELP graft_connection_timeouts_total Connections closed by the idle, header or body read deadline.\n# TYPE graft_connection_timeouts_total counter\n"
            for kind in ["body", "header", "idle"] { out += "graft_connection_timeouts_total{kind=\"\(kind)\"} \(s.connectionTimeouts[kind] ?? 0)\n" }
            if let decodeBytes = s.decodeBytes {
                out += "# HELP graft_decode_bytes_in_flight Estimated bytes of images being decoded.\n# TYPE graft_decode_bytes_in_flight gauge\ngraft_decode_bytes_in_flight \(decodeBytes())\n"
            }
            return out
        }
    }

    private static func lines(_ name: String, _ h: Histogram, label: String?) -> String {
        let prefix = label.map { "\($0)," } ?? ""
        var out = ""
        for (b, n) in zip(h.bounds, h.counts) { out += "\(name)_bucket{\(prefix)le=\"\(number(b))\"} \(n)\n" }
        out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(h.count)\n"
        let braces = label.map { "{\($0)}" } ?? ""
        out += "\(name)_sum\(braces) \(number(h.sum))\n\(name)_count\(braces) \(h.count)\n"
        return out
    }

    private static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
}
