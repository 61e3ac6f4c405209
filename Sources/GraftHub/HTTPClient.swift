import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The status and headers of one response (header names compared case-insensitively).
public struct HTTPResponseHead: Sendable {
    public let url: URL
    public let status: Int
    public let headers: [String: String]

    public init(url: URL, status: Int, headers: [String: String]) {
        self.url = url; self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    public subscript(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Blocking HTTP(S) on URLSession (libcurl on Linux: the system CA store, and the
/// `https_proxy`/`HTTPS_PROXY`, `http_proxy`, `no_proxy`/`NO_PROXY` variables as curl reads them).
/// Bodies stream to a file so a dropped connection keeps what arrived, and the next
/// attempt resumes it with `Range`.
public final class HTTPClient: @unchecked Sendable {  // unchecked: settings are set before the first request; each transfer has its own delegate
    public var maxAttempts = 5
    public var timeout: TimeInterval = 60
    public var userAgent = "graft/1.0 (huggingface_hub-compatible cache)"

    public init() {}

    /// A HEAD request that does not follow redirects to other hosts (their
    /// `Location` and the Hub's `X-Linked-*` headers are what the caller wants);
    /// relative redirects (a renamed repository) are followed, as huggingface_hub does.
    public func head(_ url: URL, headers: [String: String] = [:]) throws -> HTTPResponseHead {
        var current = url
        for _ in 0..<5 {
            var request = makeRequest(current, headers: headers)
            request.httpMethod = "HEAD"
            let delegate = TransferDelegate(followRedirects: false, sink: nil, originalHost: current.host)
            let response = try delegate.run(request, timeout: timeout)
            if (300..<400).contains(response.status), let location = response["Location"], location.hasPrefix("/"),
               let next = URL(string: location, relativeTo: current)?.absoluteURL {
                current = next
                continue
            }
            return response
        }
        throw HubError.network(url: url.absoluteString, reason: "too many relative redirects")
    }

    /// GETs `url` into `partial`, resuming from the bytes already there. Retries
    /// dropped connections and 5xx answers (up to `maxAttempts`), following
    /// redirects and dropping `Authorization` when one leaves the original host.
    /// Returns the final response head; throws for 4xx.
    @discardableResult
    public func download(_ url: URL, headers: [String: String] = [:], to partial: URL, progress: ProgressBar? = nil) throws -> HTTPResponseHead {
        var lastError: Error = HubError.network(url: url.absoluteString, reason: "no attempt made")
        for attempt in 1...max(1, maxAttempts) {
            let have = Self.size(of: partial)
            var h = headers
            if have > 0 { h["Range"] = "bytes=\(have)-" }
            let sink = FileSink(partial, resumeAt: have, progress: progress)
            let delegate = TransferDelegate(followRedirects: true, sink: sink, originalHost: url.host)
            do {
                let response = try delegate.run(makeRequest(url, headers: h), timeout: timeout)
                try sink.close()
                if response.status == 416, have > 0 {
                    // The partial file is not a prefix the server can continue: start over.
                    try? FileManager.default.removeItem(at: partial)
                    lastError = HubError.httpStatus(416, url: url.absoluteString)
                    continue
                }
                if (500..<600).contains(response.status) {
                    lastError = HubError.httpStatus(response.status, url: url.absoluteString)
                    Thread.sleep(forTimeInterval: min(4, 0.25 * Double(attempt * attempt)))
                    continue
                }
                return response
            } catch let error as TransferFailure {
                try? sink.close()
                lastError = HubError.network(url: url.absoluteString, reason: error.reason)
                // Try again only if something arrived (the next attempt resumes it) or it is the first retry.
                if Self.size(of: partial) <= have && attempt > 2 { break }
                Thread.sleep(forTimeInterval: min(2, 0.1 * Double(attempt)))
            }
        }
        throw lastError
    }

    static func size(of url: URL) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    private func makeRequest(_ url: URL, headers: [String: String]) -> URLRequest {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        // Byte offsets of a resumed download are offsets of the file itself, never of a compressed stream.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        return request
    }
}

/// A transport failure (no HTTP status): refused, reset, dropped midway, timed out.
struct TransferFailure: Error { let reason: String }

/// Appends the body of a 206 (or rewrites on a 200) to the partial file.
final class FileSink: @unchecked Sendable {  // unchecked: written only on URLSession's serial delegate queue, read after the transfer ends
    private let url: URL
    private var handle: FileHandle?
    private let resumeAt: Int64
    private(set) var written: Int64 = 0
    private let progress: ProgressBar?

    init(_ url: URL, resumeAt: Int64, progress: ProgressBar?) {
        self.url = url; self.resumeAt = resumeAt; self.progress = progress
    }

    /// Called with the final (post-redirect) response: 206 continues at the end, 200 starts over.
    /// The file is created only once a body is on its way.
    func begin(status: Int, totalBytes: Int64?) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw HubError.io(path: url.path, reason: "cannot create file")
            }
        }
        let h = try FileHandle(forWritingTo: url)
        if status == 206 {
            try h.seekToEnd()
            progress?.start(total: totalBytes.map { $0 + resumeAt }, done: resumeAt)
        } else {
            try h.truncate(atOffset: 0)
            progress?.start(total: totalBytes, done: 0)
        }
        handle = h
    }

    func write(_ data: Data) throws {
        guard let handle else { return }
        try handle.write(contentsOf: data)
        written += Int64(data.count)
        progress?.advance(by: Int64(data.count))
    }

    func close() throws {
        try handle?.synchronize()
        try handle?.close()
        handle = nil
        progress?.finish()
    }
}

/// One request's URLSession delegate, waited on synchronously.
final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {  // unchecked: URLSession calls it on one serial queue; what the caller reads is guarded by `lock`
    private let followRedirects: Bool
    private let sink: FileSink?
    private let originalHost: String?
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var finished = false
    private var outcome = Outcome.failed(reason: "no response")
    // Working state, touched only on the session's serial delegate queue.
    private var head: HTTPResponseHead?
    private var writeError: Error?

    private enum Outcome { case answered(HTTPResponseHead), writeFailed(Error), failed(reason: String) }
    private var requestHeaders: [String: String] = [:]

    init(followRedirects: Bool, sink: FileSink?, originalHost: String?) {
        self.followRedirects = followRedirects; self.sink = sink; self.originalHost = originalHost
    }

    func run(_ request: URLRequest, timeout: TimeInterval) throws -> HTTPResponseHead {
        requestHeaders = request.allHTTPHeaderFields ?? [:]
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
        // Not invalidateAndCancel: a task still winding down a refused redirect must not be cancelled under Foundation.
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request).resume()
        done.wait()
        // The outcome was frozen by `finish`; callbacks URLSession still delivers after it change nothing we read.
        let outcome = lock.withLock { self.outcome }
        switch outcome {
        case let .answered(head): return head
        case let .writeFailed(error): throw HubError.io(path: "download", reason: "\(error)")
        case let .failed(reason): throw TransferFailure(reason: reason)
        }
    }

    private static func head(of response: URLResponse) -> HTTPResponseHead? {
        guard let http = response as? HTTPURLResponse, let url = http.url else { return nil }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { if let k = k as? String, let v = v as? String { headers[k] = v } }
        return HTTPResponseHead(url: url, status: http.statusCode, headers: headers)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        guard followRedirects, let next = request.url else {
            // The redirect itself is the answer (its Location and X-Linked-* headers). Finish here rather
            // than wait for the task to complete after a refused redirect, which libcurl-based
            // URLSession does not always do before its timeout. The task is not cancelled: cancelling
            // while Foundation handles the refusal trips its state assertions; it winds down on its own.
            completionHandler(nil)
            finish(Self.head(of: response).map(Outcome.answered) ?? .failed(reason: "unreadable redirect"))
            return
        }
        // Rebuild from our own headers (Range must survive the hop); the token never leaves its host.
        var redirected = URLRequest(url: next, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: request.timeoutInterval)
        for (k, v) in requestHeaders where !(k.caseInsensitiveCompare("Authorization") == .orderedSame && next.host != originalHost) {
            redirected.setValue(v, forHTTPHeaderField: k)
        }
        completionHandler(redirected)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        head = Self.head(of: response)
        if let sink, let head, head.status == 200 || head.status == 206 {
            do { try sink.begin(status: head.status, totalBytes: head["Content-Length"].flatMap { Int64($0) }) } catch {
                writeError = error
                completionHandler(.cancel)
                return
            }
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let sink, let head, head.status == 200 || head.status == 206, writeError == nil else { return }
        do { try sink.write(data) } catch { writeError = error; dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let writeError { finish(.writeFailed(writeError)); return }
        // A body cut short is a transport failure even though headers arrived.
        if let error, sink != nil || head == nil {
            let reason = (error as? URLError).map { "\($0.localizedDescription) (\($0.code.rawValue))" } ?? "\(error)"
            finish(.failed(reason: reason))
            return
        }
        finish(head.map(Outcome.answered) ?? .failed(reason: error.map { "\($0)" } ?? "no response"))
    }

    /// Records the outcome and wakes `run`, exactly once; later calls are ignored.
    private func finish(_ result: Outcome) {
        let first = lock.withLock { () -> Bool in
            guard !finished else { return false }
            finished = true
            outcome = result
            return true
        }
        if first { done.signal() }
    }
}
